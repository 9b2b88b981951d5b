"""Tracebacks and log output pasted into a report: set aside from matching, kept for the extractors."""

from pathlib import Path

import pytest

from failgraph.assistant.report import prepare_report
from failgraph.ingest.extract import extract_libraries
from failgraph.ingest.extract.logs import is_log_line, split_logs
from failgraph.ingest.extract.narrative import matching_text
from failgraph.ingest.extract.tracebacks import frame_spans, split_frames

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TRACEBACKS = sorted((FIXTURES / "tracebacks").glob("*.txt"))
#: The error each traceback fixture ends in (for c10 errors, the what() line above the frames).
RAISED = {"c10_cuda": "  what():  CUDA error: device-side assert triggered",
          "chained_py311": "OSError: Can't load tokenizer for 'Qwen/Qwen2.5-7B-Instruct'.",
          "ray_worker": "KeyError: 'model.layers.61.mlp.experts.w2_weight_scale_inv'",
          "torchrun_nccl": "torch.distributed.DistBackendError: NCCL error in:"}
LOGS = sorted((FIXTURES / "logs").glob("*.log"))

STORY = "Fine-tuning Qwen2.5-7B with LoRA on 4 x A100 crashes right after the first step."


@pytest.mark.parametrize("path", TRACEBACKS, ids=lambda p: p.stem)
def test_frames_are_set_aside_and_the_errors_kept(path):
    text = path.read_text(encoding="utf-8")
    kept, aside = split_frames(f"{STORY}\n{text}\nIt worked with the previous release.")
    kept_lines = kept.splitlines()
    assert kept_lines[0] == STORY and kept_lines[-1] == "It worked with the previous release."
    frames = [line for line in kept_lines if 'File "' in line or line.lstrip().startswith("frame #")]
    # one frame per run stays: the innermost (the last printed)
    runs = frame_spans(text.splitlines())
    assert len(frames) == len(runs) and all(text.splitlines()[run[-1][0]] in frames for run in runs)
    assert any(line.endswith(RAISED[path.stem]) or RAISED[path.stem] in line for line in kept_lines)
    # nothing is lost: kept and aside together are the text's lines
    assert sorted(kept_lines + aside.splitlines()) == sorted(f"{STORY}\n{text}\nIt worked with the previous release."
                                                              .splitlines())


def test_chained_tracebacks_keep_both_exceptions_and_both_innermost_frames():
    kept, aside = split_frames((FIXTURES / "tracebacks" / "chained_py311.txt").read_text(encoding="utf-8"))
    assert "in from_pretrained" in kept and "TokenizerFast.from_file" in kept  # each run's innermost frame
    assert "in _from_pretrained" in aside and "serve.py" in aside
    assert len([x for x in kept.splitlines() if x.strip() and set(x.strip()) <= set("^~")]) == 2  # their carets
    assert "Exception: data did not match any variant of untagged enum ModelWrapper" in kept
    assert "OSError: Can't load tokenizer for 'Qwen/Qwen2.5-7B-Instruct'." in kept
    assert "During handling of the above exception" in kept


def test_a_single_frame_stays_and_prose_with_indentation_stays():
    frame = '  File "/x/z.py", line 9, in g\n    raise E\nE: broken'
    assert split_frames(frame) == (frame, "")
    prose = "Steps:\n    python train.py --bf16\nthen it crashes."
    assert split_frames(prose) == (prose, "")


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.stem)
def test_log_lines_are_set_aside_and_what_failed_stays(path):
    log = path.read_text(encoding="utf-8")
    failing = "WARNING 11-05 10:31:41 shm_broadcast.py:396] No available block found in 60 second; engine is stuck."
    kept, aside = split_logs(f"{STORY}\n{log}{failing}\nAny idea?")
    kept_lines = kept.splitlines()
    assert kept_lines[0] == STORY and kept_lines[-2:] == [failing, "Any idea?"]
    assert not any(" INFO " in f" {line} " or "[INFO" in line for line in kept_lines)
    assert len(aside.splitlines()) >= len(log.splitlines()) - 2  # unfinished progress bars stay


@pytest.mark.parametrize("line", [
    'INFO:     10.0.93.12:49903 - "POST /v1/chat/completions HTTP/1.1" 500 Internal Server Error',
    "WARNING: failed to allocate 0.08 MB of pinned memory: CUDA driver version is insufficient for CUDA runtime version",
    "INFO 07-02 17:41:31 model_runner.py:1067] Loading model weights took 75.1 GB; CUDA out of memory",
    "llm_load_vocab: GENERATION QUALITY WILL BE DEGRADED!",
    "ERROR 03-14 09:12:55 worker_base.py:382] Error executing method load_model.",
    "{'loss': 0.0, 'grad_norm': 0.0, 'learning_rate': 2e-05, 'epoch': 0.1}",
    "{'loss': 1.9, 'grad_norm': nan, 'learning_rate': 2e-05, 'epoch': 0.1}",
])
def test_lines_that_report_a_failure_are_not_log_noise(line):
    assert not is_log_line(line)


def test_progress_bars_keep_where_they_stopped():
    bars = "\n".join(f"Loading checkpoint shards:  {p}%|███       | {i}/30 [00:31<01:14,  3.53s/it]"
                     for i, p in ((8, 27), (9, 30)))
    kept, aside = split_logs(f"Loading hangs.\n{bars}")
    assert kept.splitlines() == ["Loading hangs.", bars.splitlines()[-1]] and aside == bars.splitlines()[0]
    done = "Loading checkpoint shards: 100%|██████████| 4/4 [00:12<00:00,  3.05s/it]"
    assert split_logs(f"Then the output is garbage.\n{done}")[0] == "Then the output is garbage."


def test_matching_text_sets_each_kind_aside_and_full_text_keeps_everything():
    listing = (FIXTURES / "listings" / "collect_env.txt").read_text(encoding="utf-8")
    log = (FIXTURES / "logs" / "vllm_serve.log").read_text(encoding="utf-8")
    tb = (FIXTURES / "tracebacks" / "ray_worker.txt").read_text(encoding="utf-8")
    m = matching_text(f"{STORY}\n{listing}\n{log}\n{tb}")
    assert m.text.splitlines()[0] == STORY and "KeyError: 'model.layers.61" in m.text
    assert m.listing and m.frames and m.logs
    assert len(m.text) < 0.15 * len(m.full_text)
    # the versions in the log and the listing still reach the extractors
    found = {x.name: x.version for x in extract_libraries(m.full_text)}
    assert found.get("vllm") == "0.6.3.post1" and found.get("numpy") == "1.26.4"
    assert not extract_libraries(m.text)


def test_prepared_report_says_what_was_set_aside():
    log = (FIXTURES / "logs" / "deepspeed_trainer.log").read_text(encoding="utf-8")
    tb = (FIXTURES / "tracebacks" / "torchrun_nccl.txt").read_text(encoding="utf-8")
    p = prepare_report(f"{STORY}\n```\n{log}\n{tb}\n```")
    assert any("log output" in n for n in p.notes) and any("traceback frames" in n for n in p.notes)
    assert "DistBackendError: NCCL error" in p.text and "deepspeed/runtime/engine.py" in p.full_text
