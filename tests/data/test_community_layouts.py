"""RefCOCO as the community ships it (VLM-R1 json and conversation jsonl, InternVL <box>, lmms-eval
rows), box formats, media roots that repeat a path prefix, ChartQA Hugging Face / lmms-eval rows and
ScreenSpot-Pro's official layout: each loads unchanged and an oracle scores 1.0."""

from __future__ import annotations

import pytest

from tests.data.oracle import oracle_records
from vrft.data.load import load_dataset
from vrft.data.loaders import get_loader
from vrft.data.loaders.common import join_media
from vrft.data.mixture_config import DatasetConfig
from vrft.eval.benchmarks import get_benchmark

BOX = [103.93, 299.99, 238.15, 477.41]  # RefCOCO ref 0 ("the lady with the blue shirt"), x1 y1 x2 y2


def refcoco(tree, name: str, **opts):
    return get_loader("refcoco")(str(tree / "refcoco" / name), str(tree / "coco" / "train2014"), "rc", **opts)


def test_vlm_r1_conversation_jsonl(official_tree):
    res = refcoco(official_tree, "refcoco_train_conv.jsonl")
    assert not res.problems and [s.prompt for s in res.samples] == ["the lady with the blue shirt",
                                                                     "man wearing a red costume"]
    assert res.samples[0].solution == {"boxes": [BOX]}
    assert res.samples[0].id == "rc/refcoco_train_conv:0"


def test_internvl_box_is_norm1000_of_the_image(official_tree):
    res = refcoco(official_tree, "refcoco_internvl.jsonl")
    (s,) = res.samples
    assert s.prompt == "the lady with the blue shirt" and s.meta == {"width": 427, "height": 640}
    assert s.solution["boxes"][0] == pytest.approx(BOX, abs=0.5)  # 0-1000 integers cost < 0.5 px here
    as_pixels = refcoco(official_tree, "refcoco_internvl.jsonl", box_format="xyxy")  # wrong on purpose
    assert not as_pixels.samples and "outside the 427x640 image" in as_pixels.problems[0].reason


def test_lmms_eval_rows_xywh_and_one_sample_per_expression(official_tree):
    res = refcoco(official_tree, "refcoco_lmms_val.jsonl")
    assert not res.problems
    assert [s.prompt for s in res.samples] == ["the lady with the blue shirt", "lady with back to us", "blue shirt"]
    assert all(s.solution == {"boxes": [pytest.approx(BOX)]} for s in res.samples)  # x, y, w, h -> corners
    assert len({s.id for s in res.samples}) == 3
    with pytest.raises(ValueError, match="box_format must be one of"):
        refcoco(official_tree, "refcoco_lmms_val.jsonl", box_format="cxcywh")
    with pytest.raises(ValueError, match="layout must be one of"):
        refcoco(official_tree, "refcoco_lmms_val.jsonl", layout="llava")


def test_refcoco_family_files_in_one_dataset(official_tree):
    files = [str(official_tree / "refcoco" / f) for f in ("refcoco_train.json", "refcocog_train.json",
                                                          "refcoco_train_conv.jsonl", "refcoco_lmms_val.jsonl")]
    cfg = DatasetConfig(name="rec", format="refcoco", files=files, media_root=str(official_tree / "coco" / "train2014"))
    ds = load_dataset(cfg)
    assert len(ds.samples) == 3 + 1 + 2 + 3 and not ds.dropped
    m = get_benchmark("refcoco").metric(oracle_records(ds.samples))
    assert m["acc@0.5"] == 1.0


def test_media_root_tolerates_a_prefix_already_in_the_rows(tmp_path):
    (tmp_path / "coco" / "train2014").mkdir(parents=True)
    (tmp_path / "coco" / "train2014" / "x.jpg").write_bytes(b"1")
    root = tmp_path / "coco" / "train2014"
    assert join_media(str(root), "train2014/x.jpg") == str(root / "x.jpg")
    assert join_media(str(root), "coco/train2014/x.jpg") == str(root / "x.jpg")
    assert join_media(str(tmp_path / "coco"), "train2014/x.jpg") == str(root / "x.jpg")
    assert join_media(str(root), "val2014/x.jpg") == str(root / "val2014" / "x.jpg")  # missing: primary path


@pytest.mark.parametrize("name", ["hf_test.jsonl", "lmms_test.jsonl"])
def test_chartqa_hugging_face_and_lmms_rows(official_tree, name):
    folder = official_tree / "chartqa"
    res = get_loader("chartqa")(str(folder / name), str(folder / "ChartQA Dataset"), "cq")
    assert not res.problems
    assert [s.solution["answer"] for s in res.samples] == ["14", "12.4"]  # ["14"] is the answer 14
    assert [s.meta["split"] for s in res.samples] == ["human", "augmented"]
    m = get_benchmark("chartqa").metric(oracle_records(res.samples))
    assert m["relaxed_acc"] == m["relaxed_acc/human"] == m["relaxed_acc/augmented"] == 1.0


def test_screenspot_pro_official_layout(official_tree):
    pro = official_tree / "screenspot_pro"
    samples = []
    for app in ("pycharm_macos", "photoshop_windows"):
        res = get_loader("screenspot_pro")(str(pro / "annotations" / f"{app}.json"), str(pro / "images"), "ssp")
        assert not res.problems
        samples += res.samples
    assert [s.id for s in samples] == ["ssp/pycharm_macos_0", "ssp/pycharm_macos_1", "ssp/photoshop_windows_0"]
    m = get_benchmark("screenspot_pro").metric(oracle_records(samples))
    assert m["click_acc"] == 1.0 and m["click_acc/platform/macos"] == 1.0 and "click_acc/application/photoshop" in m


def test_gui_loaders_box_format(official_tree, tmp_path):
    import json

    ss = official_tree / "screenspot"
    row = {"img_filename": "pc_ede36f9b-1154-4f76-b7f8-c15d7d3f9b6e.png", "instruction": "close this window",
           "data_type": "icon", "data_source": "windows"}
    variants = {"xywh": [910, 78, 44, 34], "xyxy": [910, 78, 954, 112],
                "norm1000": [947.9166666666666, 144.44444444444446, 993.75, 207.40740740740742]}  # of 960x540
    for fmt, box in variants.items():
        path = tmp_path / f"screenspot_desktop_{fmt}.json"
        path.write_text(json.dumps([{**row, "bbox": box}]))
        opts = {} if fmt == "xywh" else {"box_format": fmt}
        (s,) = get_loader("screenspot")(str(path), str(ss / "screenspot_imgs"), "ss", **opts).samples
        assert s.solution["bbox"] == pytest.approx([910.0, 78.0, 954.0, 112.0]), fmt
    pro = official_tree / "screenspot_pro"
    rows = json.loads((pro / "annotations" / "pycharm_macos.json").read_text())[:1]
    x1, y1, x2, y2 = rows[0]["bbox"]
    rows[0]["bbox"] = [x1, y1, x2 - x1, y2 - y1]
    path = tmp_path / "pycharm_macos.json"
    path.write_text(json.dumps(rows))
    (s,) = get_loader("screenspot_pro")(str(path), str(pro / "images"), "ssp", box_format="xywh").samples
    assert s.solution["bbox"] == [x1, y1, x2, y2]
    with pytest.raises(ValueError, match="box_format must be one of"):
        get_loader("screenspot")(str(path), str(pro), "ss", box_format="yolo")


def test_activitynet_captions(official_tree):
    anet = official_tree / "activitynet"
    res = get_loader("activitynet")(str(anet / "train.json"), str(anet / "videos"), "anet")
    assert not res.problems and len(res.samples) == 3
    assert res.samples[1].prompt.startswith("The girl dances")  # leading spaces of the release stripped
    m = get_benchmark("activitynet").metric(oracle_records(res.samples))
    assert m["miou"] == pytest.approx(1.0) and m["R1@0.7"] == 1.0


def test_embedded_image_bytes_are_a_clear_problem(tmp_path):
    path = tmp_path / "hf.jsonl"
    path.write_text('{"image": {"bytes": "iVBORw0KGgo...", "path": null}, "query": "q?", "label": ["1"]}\n')
    res = get_loader("chartqa")(str(path), str(tmp_path), "cq")
    (problem,) = res.problems
    assert "embedded bytes" in problem.reason and "iVBOR" not in problem.reason
