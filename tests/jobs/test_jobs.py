"""Jobs through the emulator, sync and async: completeness, resubmission, validation, locks, recovery, cancel."""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from pathlib import Path

import pytest

import siliconflow_batch as sf
from siliconflow_batch._jobs.tags import TAG_SHARD
from siliconflow_batch.testing import Emulator, Faults, VirtualClock

from fakes import run
from job_support import MODEL, assert_tallies_match, batches_per_shard_attempt, client_for, request, write_requests


def _ids(count: int) -> list[str]:
    return [f"r{i}" for i in range(count)]


def test_an_expiry_and_failed_lines_still_give_one_result_per_request_in_order(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"rate_limit": 0.05, "overloaded": 0.05, "invalid": 0.02})
    emulator.faults.expire_next(fraction=0.4)
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 1200)
    # Shards of one size: whichever the async client creates first (it creates four at once) is the one that expires.
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=400, poll_interval=5))
    results = run(job.results())
    assert [r.custom_id for r in results] == _ids(1200)
    status = run(job.status())
    assert status.done
    assert status.total == 1200
    assert status.pending == 0
    assert status.succeeded == sum(r.ok for r in results)
    assert status.failed == sum(not r.ok for r in results)
    # The expired shard's unfinished lines (60% of its 400) and the 429/50505 lines came back in later attempts.
    assert status.resubmitted > 240
    assert status.resubmitted == sum(r.attempts > 1 for r in results)  # the status counts what the results say
    assert {r.attempts for r in results} >= {1, 2}
    assert set(batches_per_shard_attempt(emulator, job.id).values()) == {1}  # one batch per (shard, attempt)
    failed = [r for r in results if not r.ok]
    assert all(r.status_code == 400 or r.attempts == 3 for r in failed)  # permanent, or out of attempts
    assert status.usage[MODEL].requests == status.succeeded
    assert status.cost is not None
    assert status.cost > 0
    assert_tallies_match(tmp_path / "job")


def test_permanent_failures_are_final_at_once(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    emulator._engine.line_failures.update({"invalid": 0.2})
    client = client_for(mode, emulator)
    job = run(client.jobs.run(write_requests(tmp_path / "in.jsonl", 200), job_dir=tmp_path / "job", poll_interval=5))
    results = run(job.results())
    failed = [r for r in results if not r.ok]
    assert 20 < len(failed) < 60
    assert {r.attempts for r in results} == {1}  # nothing was sent twice
    assert {r.status_code for r in failed} == {400}
    assert len(emulator.batches()) == 1


def test_retryable_lines_are_resubmitted_until_they_pass_or_max_attempts(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"rate_limit": 0.3})
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 300)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_attempts=8, poll_interval=5))
    results = run(job.results())
    assert all(r.ok for r in results)  # 0.3 ** 8 * 300 < 0.02 expected failures; the draws are deterministic
    attempts = Counter(r.attempts for r in results)
    assert 180 < attempts[1] < 240
    assert attempts[2] > 40
    assert run(job.status()).attempts == dict(sorted(attempts.items()))

    emulator._engine.line_failures.update({"rate_limit": 1.0})  # every line fails, every time
    source = write_requests(tmp_path / "in2.jsonl", 30)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job2", max_attempts=3, poll_interval=5))
    results = run(job.results())
    assert {(r.ok, r.attempts, r.status_code) for r in results} == {(False, 3, 429)}
    assert sorted(batches_per_shard_attempt(emulator, job.id)) == [("1", "1"), ("2", "2"), ("3", "3")]


def test_invalid_input_is_refused_at_its_input_lines_and_nothing_is_sent(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    lines = [json.dumps(request(i)) for i in range(12)]
    lines[3] = "{not json"
    lines[7] = json.dumps({"custom_id": "r7", "body": {"messages": [{"role": "assistant", "content": "hi"}]}})
    lines[10] = json.dumps(request(1))  # r1 again, in another shard
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    client = client_for(mode, emulator)
    with pytest.raises(sf.InputValidationError) as caught:
        run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=5))
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (4, "line"),
        (8, "body.messages"),
        (11, "custom_id"),
    ]
    assert "'r1' is already used on line 2" in str(caught.value)
    assert emulator.files() == []
    assert emulator.batches() == []
    # Fixed, the same directory takes the corrected input: a refused job was never started.
    write_requests(source, 12)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=5, poll_interval=5))
    assert [r.custom_id for r in run(job.results())] == _ids(12)


def test_a_changed_input_is_refused_and_the_same_one_resumes(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 10)
    run(client.jobs.submit(source, job_dir=tmp_path / "job")).close()
    write_requests(source, 11)
    with pytest.raises(sf.JobInputMismatchError, match="another input"):
        run(client.jobs.submit(source, job_dir=tmp_path / "job"))
    write_requests(source, 10)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", poll_interval=5))
    assert len(run(job.results())) == 10
    assert len(emulator.batches()) == 1  # the resumed job created nothing new


def test_a_second_holder_of_the_job_directory_is_refused(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    first = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 10), job_dir=tmp_path / "job"))
    second = run(client.jobs.open(tmp_path / "job"))
    with pytest.raises(sf.JobLockedError, match="another process"):
        run(second.wait(poll_interval=5))
    assert run(second.status()).total == 10  # reading needs no lock
    first.close()
    assert run(second.wait(poll_interval=5)).done  # the lock is free once the holder lets go
    second.close()


def test_recover_rebuilds_a_lost_ledger_from_the_server(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"overloaded": 0.2})
    emulator.faults.expire_next(fraction=0.5)
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 250)
    job_dir = tmp_path / "job"
    job = run(client.jobs.submit(source, job_dir=job_dir, max_shard_lines=100))
    with pytest.raises(sf.WaitTimeoutError):  # some batches end and are resubmitted, then the ledger is lost
        run(job.wait(poll_interval=5, timeout=70))
    assert run(job.status()).resubmitted > 0
    job.close()
    (job_dir / "ledger.sqlite").unlink()
    for extra in ("ledger.sqlite-wal", "ledger.sqlite-shm"):
        (job_dir / extra).unlink(missing_ok=True)
    with pytest.raises(sf.JobError, match="holds no job"):
        run(client.jobs.open(job_dir))
    before = len(emulator.batches())
    recovered = run(client.jobs.recover(source, job_id=job.id, job_dir=job_dir, max_shard_lines=100))
    status = run(recovered.wait(poll_interval=5))
    results = run(recovered.results())
    assert [r.custom_id for r in results] == _ids(250)
    assert status.done
    assert status.succeeded + status.failed == 250
    assert set(batches_per_shard_attempt(emulator, job.id).values()) == {1}
    assert before >= 3  # batches that existed before the loss: each taken back, none created again (above)
    recovered.close()
    with pytest.raises(sf.JobError, match="still has its ledger"):
        run(client.jobs.recover(source, job_id=job.id, job_dir=job_dir))


def _lose_ledger(job_dir: Path) -> None:
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        (job_dir / name).unlink(missing_ok=True)


def _content_requests(emulator: Emulator) -> Counter[str]:
    """How often each file's content was asked for."""
    return Counter({route: n for route, n in emulator.requests.items() if route.endswith("/content")})


def test_recover_replays_the_job_from_the_server_and_the_input_alone(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    """No input file is read back: the shards are cut again from the input and the batches' plans."""
    emulator._engine.line_failures.update({"overloaded": 0.2, "rate_limit": 0.1})
    emulator.faults.expire_next(fraction=0.5)
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 250)
    job_dir = tmp_path / "job"
    job = run(client.jobs.submit(source, job_dir=job_dir, max_shard_lines=40, max_attempts=4))
    with pytest.raises(sf.WaitTimeoutError):  # some batches end and are resubmitted, then the ledger is lost
        run(job.wait(poll_interval=5, timeout=150))
    before = run(job.status())
    assert before.resubmitted > 0
    assert max(before.attempts) >= 3  # a cut from the results of a cut
    job.close()
    _lose_ledger(job_dir)
    inputs = {b["input_file_id"] for b in emulator.batches()}
    created = len(emulator.batches())
    recovered = run(client.jobs.recover(source, job_id=job.id, job_dir=job_dir))  # settings from the batches
    assert len(emulator.batches()) >= created  # nothing created twice (checked per shard below)
    asked = _content_requests(emulator)
    assert not any(file_id in route for route in asked for file_id in inputs)  # no input file was read back
    status = run(recovered.wait(poll_interval=5))
    results = run(recovered.results())
    assert [r.custom_id for r in results] == _ids(250)
    assert status.succeeded + status.failed == 250
    assert set(batches_per_shard_attempt(emulator, job.id).values()) == {1}
    recovered.close()
    with pytest.raises(sf.JobError, match="still has its ledger"):
        run(client.jobs.recover(source, job_id=job.id, job_dir=job_dir))


def test_a_recovered_job_whose_batches_all_ended_can_be_read_at_once(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 30)
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job", max_shard_lines=10))
    job.close()
    _lose_ledger(tmp_path / "job")
    clock.advance(3600)  # every batch has completed on the server meanwhile
    recovered = run(client.jobs.recover(source, job_id=job.id, job_dir=tmp_path / "job"))
    results = run(recovered.results())  # no wait() first: recover read what had ended
    assert [r.custom_id for r in results] == _ids(30)
    assert all(r.ok for r in results)
    recovered.close()


def test_recover_refuses_settings_other_than_those_the_batches_were_cut_with(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 30)
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job", max_shard_lines=10))
    job.close()
    _lose_ledger(tmp_path / "job")
    with pytest.raises(sf.JobInputMismatchError, match="max_shard_lines=10"):
        run(client.jobs.recover(source, job_id=job.id, job_dir=tmp_path / "job", max_shard_lines=20))
    other = write_requests(tmp_path / "other.jsonl", 31)  # another input finds none of the job's batches
    recovered = run(client.jobs.recover(other, job_id=job.id, job_dir=tmp_path / "other-job", max_shard_lines=10))
    assert run(recovered.status()).total == 31
    recovered.close()


def test_recover_names_the_batches_a_list_that_ignores_paging_did_not_show(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    """The guide says paging is not supported yet: the list shows its newest 100 whatever the cursor."""
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 120)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=1, poll_interval=5))
    job.close()
    _lose_ledger(tmp_path / "job")
    emulator.faults.ignore_after = True
    created = len(emulator.batches())
    beyond = emulator.batches()[100:]  # newest first: what the first page does not show
    unseen = ", ".join(str(s) for s in sorted(int(b["metadata"]["sf_shard"]) for b in beyond))
    with pytest.raises(sf.JobError, match=f"shards {unseen} of job job may have batches .*batch_ids"):
        run(client.jobs.recover(source, job_id=job.id, job_dir=tmp_path / "job"))
    assert len(emulator.batches()) == created  # nothing was sent
    oldest = [b["id"] for b in beyond]
    recovered = run(client.jobs.recover(source, job_id=job.id, job_dir=tmp_path / "job", batch_ids=oldest))
    status = run(recovered.wait(poll_interval=5))
    assert status.succeeded == 120
    assert len(emulator.batches()) == created  # every batch taken back, none created again
    recovered.close()


def test_transient_failures_while_submitting_and_waiting_never_end_the_call(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    """Hundreds of shards at a 2 % fault rate (504s and dropped connections after the work was done included)."""
    emulator.faults = Faults(rate=0.02, seed=3, kinds=("overloaded", "gateway_timeout", "rate_limit", "drop"))
    emulator.faults.inject("gateway_timeout", route="POST /files")  # the first upload happened; its answer is lost
    emulator.faults.inject("drop", route="POST /batches")  # and so did the first create
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 200)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=1, poll_interval=5))
    status = run(job.status())
    assert status.succeeded == 200
    assert emulator.faults.injected["gateway_timeout"] > 3
    assert emulator.faults.injected["drop"] > 3
    assert set(batches_per_shard_attempt(emulator, job.id).values()) == {1}
    assert len(emulator.batches()) == 200
    job.close()


def test_a_result_file_that_404s_at_first_is_asked_for_again_before_its_lines_count_as_missing(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    emulator.faults.result_not_found(times=3)
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 20)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=10, poll_interval=5))
    results = run(job.results())
    assert all(r.ok and r.attempts == 1 for r in results)  # nothing counted missing, nothing sent again
    assert emulator.faults.injected["result_not_found"] == 6
    assert len(emulator.batches()) == 2
    job.close()


def test_a_result_file_that_never_appears_counts_as_missing_after_the_grace(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    emulator.faults.result_not_found(times=10**6)
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 4)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", poll_interval=5, result_grace=120, max_attempts=2))
    results = run(job.results())
    assert [r.error["code"] for r in results if r.error] == ["missing_result"] * 4  # after two attempts
    assert {r.attempts for r in results} == {2}
    job.close()


def test_status_asks_the_server_and_counts_what_running_batches_have_done(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 100)
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job", max_shard_lines=50))
    cached = run(job.status(refresh=False))
    assert cached.batches == {"in_queue": 2}
    clock.advance(45)  # in_progress: most of each batch's lines are done on the server
    fresh = run(job.status())
    assert fresh.batches == {"in_progress": 2}
    assert 0 < fresh.running_done < 100
    assert fresh.progress == fresh.running_done
    assert fresh.succeeded == 0  # nothing downloaded yet
    assert run(job.status(refresh=False)).batches == {"in_queue": 2}  # the ledger was not changed
    clock.advance(100)
    assert run(job.status()).batches == {"completed": 2}
    job.close()


def test_a_job_cancelled_by_another_process_stops_creating_and_ends_cancelled(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"rate_limit": 0.5})  # so that the runner would resubmit
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 40)
    runner = run(client.jobs.submit(source, job_dir=tmp_path / "job", max_shard_lines=20))
    runner._engine.lock()  # the runner holds the lock, as a process running the job does
    other = run(client.jobs.open(tmp_path / "job"))
    status = run(other.cancel())  # not refused by the lock
    assert status.cancelled
    assert {b["status"] for b in emulator.batches()} == {"cancelling"}
    other.close()
    created = len(emulator.batches())
    final = run(runner.wait(poll_interval=5))
    assert final.cancelled
    assert final.done
    assert len(emulator.batches()) == created  # nothing created after the cancel
    runner.close()


def test_cancel_ends_the_job_and_creates_nothing_more(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 40), job_dir=tmp_path / "job"))
    status = run(job.cancel())
    assert status.cancelled
    status = run(job.wait(poll_interval=5))
    results = run(job.results())
    assert status.done
    assert status.failed == 40
    assert {r.error["code"] for r in results if r.error} == {"cancelled"}
    assert [b["status"] for b in emulator.batches()] == ["cancelled"]
    assert_tallies_match(tmp_path / "job")


def test_a_zero_recharged_balance_warns_and_require_balance_refuses(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.charge_balance = "0.00"
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 5)
    with pytest.raises(sf.InsufficientBalanceError, match=r"recharged balance is 0\.00"):
        run(client.jobs.submit(source, job_dir=tmp_path / "refused", require_balance=True))
    assert emulator.batches() == []
    assert emulator.files() == []
    with (
        pytest.warns(UserWarning, match="paid only from recharged balance"),
        pytest.raises(sf.InsufficientBalanceError, match="is paused"),  # and the server refuses the batch (402)
    ):
        run(client.jobs.submit(source, job_dir=tmp_path / "warned"))
    emulator.charge_balance = "10.00"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(client.jobs.submit(source, job_dir=tmp_path / "paid")).close()


def test_a_402_pauses_the_job_and_the_same_call_resumes_it_after_a_top_up(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    """The vendor answers 402 to a create without recharged balance: not retried, one line, nothing twice."""
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 30)
    emulator.faults.inject("insufficient_balance", times=1, route="POST /batches")
    emulator.charge_balance = "0.00"
    with (
        pytest.warns(UserWarning, match="recharged balance is 0.00"),
        pytest.raises(sf.InsufficientBalanceError) as caught,
    ):
        # One shard at a time, so that the 402 (the first create's) is shard 1's: sent at once, any shard is first.
        run(client.jobs.submit(source, job_dir=tmp_path / "job", max_shard_lines=10, max_concurrency=1))
    message = str(caught.value)
    assert "\n" not in message
    assert "shard 1" in message
    assert "recharged balance is 0.00" in message
    assert "top up, then resume" in message
    # The refused create was tried once (no retry), and no shard after it was sent.
    assert emulator.requests["POST /batches"] == 1
    assert emulator.batches() == []
    emulator.charge_balance = "10.00"  # topped up: the same call resumes
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=10, poll_interval=5))
    assert run(job.status()).succeeded == 30
    assert set(batches_per_shard_attempt(emulator, job.id).values()) == {1}
    assert len(emulator.batches()) == 3
    job.close()


@pytest.mark.slow  # 101 batches of one line each: a few seconds
@pytest.mark.parametrize("pages", [True, False])
def test_one_list_request_per_100_active_batches_per_round(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path, pages: bool
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 101)
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job", max_shard_lines=1))  # 101 active batches
    emulator.faults.ignore_after = not pages  # a server that serves its first page whatever the cursor
    emulator.requests.clear()
    sleeps = len(clock.sleeps)
    run(job.wait(poll_interval=5))
    rounds = len(clock.sleeps) - sleeps + 1
    lists = emulator.requests["GET /batches"]
    retrieves = sum(n for route, n in emulator.requests.items() if route.startswith("GET /batches/"))
    if pages:
        assert retrieves == 0
        assert lists <= rounds * (math.ceil(101 / 100) + 1)
    else:  # the cursor cycle is found once; from then on, one retrieve per active batch
        assert lists <= 2
        assert retrieves >= 101
    assert len(run(job.results())) == 101


def test_an_iterable_source_is_written_to_the_job_directory_as_it_is_read(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    requests = (request(i) for i in range(30))  # a generator: it can be read once
    job = run(client.jobs.run(requests, job_dir=tmp_path / "job", max_shard_lines=10, poll_interval=5))
    assert [r.custom_id for r in run(job.results())] == _ids(30)
    assert len((tmp_path / "job" / "input.jsonl").read_text().splitlines()) == 30
    with pytest.raises(sf.InputValidationError, match="must be a dict"):
        run(client.jobs.run(["not a dict"], job_dir=tmp_path / "bad"))  # type: ignore[list-item]


def test_results_wait_for_the_end_unless_partial_and_the_output_file_is_whole(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 8), job_dir=tmp_path / "job"))
    with pytest.raises(sf.JobNotFinishedError, match="8 requests still pending"):
        run(job.results())
    assert {r.error["code"] for r in run(job.results(partial=True)) if r.error} == {"pending"}
    run(job.wait(poll_interval=5))
    out = tmp_path / "merged.jsonl"
    out.write_text("an earlier merge\n")
    earlier = out.stat().st_ino
    assert run(job.write_results(out)) == 8
    # Whole: written beside the old file and renamed over it (a new inode), no temporary file left behind; a
    # write in place would keep the inode and leave a half file behind on a failure midway.
    assert out.stat().st_ino != earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "job", "merged.jsonl"]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == _ids(8)
    assert {line["attempts"] for line in lines} == {1}
    assert all(line["ok"] for line in lines)
    assert set(lines[0]) == {"custom_id", "ok", "status_code", "source", "content", "error", "response", "attempts"}


def test_job_settings_are_checked_before_anything_is_read_or_sent(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 3)
    with pytest.raises(sf.InputValidationError) as caught:
        run(
            client.jobs.submit(
                source,
                job_dir=tmp_path / "job",
                completion_window="12h",
                max_attempts=0,
                max_shard_lines=6000,
                metadata={f"k{i}": "v" for i in range(12)},
            )
        )
    fields = sorted(p.field for p in caught.value.problems)
    assert fields == ["completion_window", "max_attempts", "max_shard_lines", "metadata"]
    assert "at most 10 are yours" in str(caught.value)
    assert emulator.files() == []


def test_a_cancel_cut_short_is_finished_by_the_next_wait(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 10), job_dir=tmp_path / "job"))
    emulator.faults.inject("overloaded", times=3, route="POST /batches/")  # every try of the cancel fails
    with pytest.raises(sf.OverloadedError):
        run(job.cancel())
    assert [b["status"] for b in emulator.batches()] != ["cancelled"]
    status = run(job.wait(poll_interval=5))
    assert status.cancelled
    assert status.done
    assert [b["status"] for b in emulator.batches()] == ["cancelled"]


def test_opening_a_folder_without_a_job_changes_nothing(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    with pytest.raises(sf.JobError, match="holds no job"):
        run(client.jobs.open(tmp_path / "typo"))
    assert not (tmp_path / "typo").exists()


def test_result_files_given_as_signed_urls_are_read(mode: str, clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(stage_seconds=10, clock=clock.time, result_urls=True)
    emulator.faults.expire_next(fraction=0.5)  # an output file and an error file, both as URLs
    client = client_for(mode, emulator)
    job = run(client.jobs.run(write_requests(tmp_path / "in.jsonl", 20), job_dir=tmp_path / "job", poll_interval=5))
    assert [r.custom_id for r in run(job.results())] == _ids(20)
    assert run(job.status()).resubmitted == 10
    assert all(r.ok for r in run(job.results()))


def test_the_poll_interval_stretches_while_nothing_changes(mode: str, clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(stage_seconds=3600, clock=clock.time)  # each stage an hour: long stretches of nothing
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 5)
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job"))
    start = len(clock.sleeps)
    run(job.wait(poll_interval=30, max_poll_interval=600))
    sleeps = clock.sleeps[start:]
    assert max(sleeps) == 600
    assert sleeps[:3] == [30, 45, 67.5]  # 1.5x per unchanged poll
    assert len(sleeps) < 100  # six hours of stages (six changes, each resetting to 30 s): not 720 polls


def test_an_unknown_job_option_is_a_type_error(emulator: Emulator, tmp_path: Path) -> None:
    client = client_for("sync", emulator)
    assert isinstance(client, sf.SiliconFlow)
    source = write_requests(tmp_path / "in.jsonl", 2)
    with pytest.raises(TypeError, match=r"unexpected options \['max_attempt'\]"):
        client.jobs.submit(source, job_dir=tmp_path / "job", max_attempt=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"unexpected options \['poll_intervall'\]"):
        client.jobs.run(source, job_dir=tmp_path / "job", poll_intervall=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"unexpected options \['poll_interval'\]; known: \['completion_window'"):
        client.jobs.submit(source, job_dir=tmp_path / "job", poll_interval=2)  # type: ignore[call-arg]
    assert emulator.files() == []
    job = client.jobs.submit(source, job_dir=tmp_path / "job")
    with pytest.raises(TypeError, match=r"unexpected options \['max_attempts'\]"):
        job.wait(max_attempts=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"unexpected options \['timeout'\]"):
        job.step(timeout=2)  # type: ignore[call-arg]
    job.close()


def test_run_hands_each_option_to_the_call_that_takes_it(emulator: Emulator, tmp_path: Path) -> None:
    # run = submit + wait: the job's settings reach the ledger, the pacing reaches wait, and the send options both.
    client = client_for("sync", emulator)
    assert isinstance(client, sf.SiliconFlow)
    seen: list[sf.JobStatus] = []
    job = client.jobs.run(
        write_requests(tmp_path / "in.jsonl", 3),
        job_dir=tmp_path / "job",
        job_id="handed",
        max_shard_lines=1,
        max_attempts=2,
        on_progress=seen.append,
        poll_interval=0.01,
        max_poll_interval=0.02,
        result_grace=5,
        max_concurrency=2,
    )
    status = job.status()
    assert status.done
    assert status.total == 3
    assert seen
    assert seen[-1].done
    assert job.options["max_attempts"] == 2
    assert job.options["max_shard_lines"] == 1
    assert job.id == "handed"
    with pytest.raises(sf.InputValidationError, match="max_concurrency"):
        job.wait(max_concurrency=0)
    job.close()


def test_an_input_that_cannot_be_read_is_one_problem(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    with pytest.raises(sf.InputValidationError, match="cannot be read: No such file or directory"):
        run(client.jobs.submit(tmp_path / "missing.jsonl", job_dir=tmp_path / "job"))
    with pytest.raises(sf.InputValidationError, match="is a directory, not a file"):
        run(client.jobs.submit(tmp_path, job_dir=tmp_path / "job"))
    source = write_requests(tmp_path / "in.jsonl", 2)
    run(client.jobs.submit(source, job_dir=tmp_path / "job")).close()
    source.unlink()  # resuming with an input that is gone says so, not "another input"
    with pytest.raises(sf.InputValidationError, match="the job's input cannot be read"):
        run(client.jobs.submit(source, job_dir=tmp_path / "job"))


def test_a_shard_the_server_refuses_fails_its_requests_and_the_job_goes_on(
    mode: str, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create = emulator._create
    creates = []

    def refuse_the_second(body: bytes, now: float) -> object:
        # The second shard's create, known by its tag: shards are sent at once, in no fixed order.
        creates.append(body)
        if json.loads(body)["metadata"][TAG_SHARD] == "2":
            return create(b"{}", now)  # the emulator's own 400: "input_file_id is required"
        return create(body, now)

    monkeypatch.setattr(emulator, "_create", refuse_the_second)
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 30)
    job = run(client.jobs.run(source, job_dir=tmp_path / "job", max_shard_lines=10, poll_interval=5))
    results = run(job.results())
    refused = [r for r in results if r.error and r.error["code"] == "batch_refused"]
    assert [r.custom_id for r in refused] == [f"r{i}" for i in range(10, 20)]
    assert "input_file_id is required" in refused[0].error["message"]
    status = run(job.status())
    assert status.batches == {"completed": 2, "refused": 1}
    assert status.failed == 10 + sum(1 for r in results if r.status_code == 400)


def test_a_lost_result_file_is_named_when_results_are_read(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    # The ledger points to each result line in the downloaded files: results come from them, byte for byte, and
    # a file lost from the job directory is one error that names it, never a wrong or a missing result.
    client = client_for(mode, emulator)
    job = run(client.jobs.run(write_requests(tmp_path / "in.jsonl", 30), job_dir=tmp_path / "job", poll_interval=5))
    downloaded = sorted((tmp_path / "job" / "results").glob("*.output.jsonl"))
    lines = {json.loads(line)["custom_id"]: line for path in downloaded for line in path.read_bytes().splitlines()}
    results = run(job.results())
    assert [r.custom_id for r in results] == _ids(30)
    assert all(json.loads(lines[r.custom_id])["response"] == r.response for r in results)
    downloaded[0].unlink()
    with pytest.raises(sf.JobError, match=r"result file results/.*\.output\.jsonl cannot be read .*recover"):
        run(job.results())
    job.close()


def test_tallies_that_drifted_are_counted_again_and_the_job_still_ends(
    mode: str, emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The status counts come from tallies each transition keeps; were one ever wrong, the job must not wait for
    # requests that cannot come: once nothing can answer, the ledger counts its requests again.
    import sqlite3

    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 20), job_dir=tmp_path / "job"))
    with sqlite3.connect(tmp_path / "job" / "ledger.sqlite") as db:
        db.execute("UPDATE tallies SET requests = requests + 3 WHERE outcome = 'pending'")
    status = run(job.wait(poll_interval=5, timeout=3600))  # virtual time: a job that never ends fails here
    assert status.done
    assert (status.total, status.succeeded, status.pending) == (20, 20, 0)
    assert "tallies" in caplog.text
    assert_tallies_match(tmp_path / "job")
    job.close()


def test_a_job_directory_made_by_0_6_reads_as_it_did(emulator: Emulator, tmp_path: Path) -> None:
    # Made by 0.6.0 (a 12-request job, two lines refused): its ledger holds each result line itself, and has
    # neither tallies nor result files; a later version reads its results and status as 0.6 wrote them.
    import shutil

    fixture = Path(__file__).parent.parent / "fixtures" / "job-0.6"
    job_dir = tmp_path / "job"
    shutil.copytree(fixture / "job", job_dir)
    shutil.rmtree(job_dir / "results")  # not read: 0.6 kept every line in the ledger
    expected = json.loads((fixture / "expected-status.json").read_text())
    client = client_for("sync", emulator)
    job = run(client.jobs.open(job_dir))
    status = run(job.status(refresh=False))
    attempts = {str(k): v for k, v in status.attempts.items()}
    assert (status.total, status.succeeded, status.failed, status.pending, attempts) == (
        expected["total"], expected["succeeded"], expected["failed"], expected["pending"], expected["attempts"]
    )  # fmt: skip
    assert run(job.write_results(tmp_path / "merged.jsonl")) == 12
    assert (tmp_path / "merged.jsonl").read_bytes() == (fixture / "expected.jsonl").read_bytes()
    job.close()
    assert_tallies_match(job_dir)
