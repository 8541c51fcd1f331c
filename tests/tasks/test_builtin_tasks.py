"""Each built-in task: bad solutions are rejected with a clear error, and the ground truth rendered as
a completion in the model's frame round-trips through the task's judge (its reward) to a perfect score."""

from __future__ import annotations

import pytest

from rewards.context import RewardContext, VideoInfo
from rewards.frames import NORM_1000, ORIGINAL_PIXELS, RESIZED_PIXELS, ImageFrame
from vrft.data.sample import Sample, VideoRef
from vrft.data.templates import render_prompt, render_solution_completion
from vrft.eval.benchmarks import benchmark_for_dataset
from vrft.eval.judges import judge
from vrft.tasks import TASKS, SolutionError, get_task, sample_task

FRAMES = {
    NORM_1000: ImageFrame((640, 480), (448, 336), NORM_1000),
    RESIZED_PIXELS: ImageFrame((640, 480), (448, 336), RESIZED_PIXELS),
    ORIGINAL_PIXELS: ImageFrame((640, 480), (640, 480), ORIGINAL_PIXELS),
}

GOOD = {
    "grounding": ({"boxes": [[100, 60, 300, 260]]}, {}),
    "detection": ({"objects": [{"bbox": [10, 20, 200, 220], "label": "cat"},
                               {"bbox": [300, 100, 600, 400], "label": "dog"}]}, {}),
    "chart": ({"answer": 12.5}, {}),
    "vqa": ({"answer": "red"}, {}),
    "mcq": ({"answer": "B"}, {}),
    "gui": ({"action": "click", "bbox": [200, 100, 260, 140]}, {}),
    "temporal": ({"segment": [12.0, 20.5]}, {"duration": 30.0}),
}

BAD = {
    "grounding": [({"boxes": []}, "non-empty list"), ({"boxes": [[5, 5, 1, 1]]}, "no area"),
                  ({"box": [1, 2, 3, 4]}, "needs 'boxes'")],
    "detection": [({"objects": "cat"}, "needs 'objects'"), ({"objects": [{"bbox": [1, 1, 2, 2]}]}, "string 'label'"),
                  ({"objects": [{"bbox": [1, 1, float("nan"), 2], "label": "x"}]}, "non-finite")],
    "chart": [({"value": "1"}, "needs 'answer'"), ({"answer": ""}, "non-empty string")],
    "vqa": [({"answer": float("inf")}, "not finite")],
    "mcq": [({}, "needs 'answer'")],
    "gui": [({"action": "drag"}, "must be one of"), ({"action": "type", "text": 3}, "string 'text'"),
            ({"action": "click", "bbox": [1, 2, 3]}, "4 numbers")],
    "temporal": [({"segment": [5, 2]}, "start < end"), ({"segment": [1, "x"]}, "[start, end]"),
                 ({"segment": [1, 40]}, "duration"), ({"segment": [1, 2], "no_meta": True}, "meta.duration")],
}


def make_sample(task, solution, meta, video=None):
    return Sample(id="d/7", dataset="d", task=task, prompt="the thing", solution=solution,
                  images=[] if task == "temporal" else ["x.png"], video=video, meta=dict(meta))


def test_every_builtin_kind_is_registered():
    assert set(GOOD) <= set(TASKS.names())


@pytest.mark.parametrize("task", sorted(GOOD))
def test_bad_solutions_are_rejected_with_a_clear_error(task):
    for solution, message in BAD[task]:
        meta = {} if solution.pop("no_meta", False) else GOOD[task][1]
        with pytest.raises(SolutionError, match=message.replace("[", r"\[").replace("]", r"\]")):
            get_task(task).check_solution(dict(solution), meta)


@pytest.mark.parametrize("task", sorted(GOOD))
@pytest.mark.parametrize("frame_kind", [NORM_1000, RESIZED_PIXELS, ORIGINAL_PIXELS])
def test_rendered_ground_truth_judges_perfect(task, frame_kind):
    solution, meta = GOOD[task]
    kind = get_task(task)
    solution = kind.check_solution(dict(solution), meta)
    video, video_info, clip_start = None, None, 0.0
    if task == "temporal":
        video, video_info, clip_start = VideoRef("v.mp4", start=4.0, end=28.0), VideoInfo(30.0, clip_start=4.0), 4.0
    sample = make_sample(task, solution, meta, video)
    frames = [FRAMES[frame_kind]] if sample.images else None
    completion = render_solution_completion(sample, frames, clip_start, think=True)
    ctx = RewardContext(solution=solution, task=task, dataset="d", sample_id="d/7", images=frames or [],
                        video=video_info, meta=meta)
    j = kind.judge(completion, ctx)
    assert not j.unparseable and j.correct, (completion, j)
    assert j.score == pytest.approx(1.0, abs=0.02), (completion, j)
    record = {"task": task, "score": j.score, "correct": j.correct, "unparseable": False, "extras": j.extras,
              "answer": j.answer, "solution": solution, "image_size": [640, 480], "meta": meta}
    assert kind.metrics([record])["score"] == pytest.approx(1.0, abs=0.02)
    prompt = render_prompt(sample, "default", frame_kind)
    assert "the thing" in prompt and "<answer>" in prompt


def test_gui_type_renders_and_judges_perfect():
    ctx = RewardContext(solution={"action": "type", "text": "hello"}, task="gui")
    s = make_sample("gui", {"action": "type", "text": "hello"}, {})
    assert get_task("gui").judge(render_solution_completion(s, None), ctx).score == 1.0


def test_unknown_task_suggests_the_closest_and_names_the_sample():
    s = make_sample("grundin", {"boxes": [[1, 1, 2, 2]]}, {})
    with pytest.raises(ValueError, match=r"sample 'd/7' \(dataset 'd'\): unknown task 'grundin' "
                                         r"\(did you mean 'grounding'\?\)"):
        sample_task(s)
    with pytest.raises(ValueError, match="did you mean 'grounding'"):
        render_prompt(s, "default", NORM_1000)


def test_unknown_task_in_judge_and_benchmark_names_where():
    ctx = RewardContext(solution={}, task="tempora", dataset="charades", sample_id="charades/3")
    with pytest.raises(ValueError, match=r"sample 'charades/3' \(dataset 'charades'\): .*did you mean 'temporal'"):
        judge("tempora", "<answer>1 to 2</answer>", ctx)
    with pytest.raises(ValueError, match=r"dataset 'charades': unknown task 'tempora' \(did you mean 'temporal'\?\)"):
        benchmark_for_dataset("tempora", dataset="charades")
