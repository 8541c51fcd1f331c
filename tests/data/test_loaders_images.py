"""Image-format loaders on fixtures in the real formats: good rows load, bad rows become Problems."""

from __future__ import annotations

import pytest

from vrft.data.loaders import get_loader, list_loaders


def reasons(result) -> dict[str, str]:
    return {p.row: p.reason for p in result.problems}


def test_registry_lists_valid_names():
    assert {"refcoco", "coco", "chartqa", "screenspot", "screenspot_pro", "charades_sta",
            "activitynet", "jsonl"} <= set(list_loaders())
    with pytest.raises(ValueError, match="valid formats: .*refcoco"):
        get_loader("refcocoo")


def test_loader_rejects_unknown_option_and_task(data_dir):
    with pytest.raises(ValueError, match="unknown option"):
        get_loader("refcoco")(str(data_dir / "refcoco.json"), str(data_dir), "rc", bogus=1)
    with pytest.raises(ValueError, match="cannot produce task 'chart'"):
        get_loader("refcoco")(str(data_dir / "refcoco.json"), str(data_dir), "rc", "chart")


def test_refcoco(data_dir):
    res = get_loader("refcoco")(str(data_dir / "refcoco.json"), str(data_dir), "rc")
    by_id = {s.id: s for s in res.samples}
    assert sorted(by_id) == ["rc/refcoco:2", "rc/refcoco:r0", "rc/refcoco:r1"]
    r0 = by_id["rc/refcoco:r0"]
    assert r0.task == "grounding" and r0.dataset == "rc"
    assert r0.solution == {"boxes": [[10.0, 20.0, 50.0, 60.0]]}
    assert r0.images == [str(data_dir / "images/a.png")]
    assert r0.meta == {"width": 100, "height": 80}
    assert by_id["rc/refcoco:r1"].solution == {"boxes": [[5.0, 5.0, 30.5, 40.0]]}  # from "<answer>[...]</answer>"
    assert by_id["rc/refcoco:2"].solution == {"boxes": [[0.0, 0.0, 10.0, 10.0]]}
    bad = reasons(res)
    assert set(bad) == {"3 (id bad_order)", "4 (id bad_type)", "5 (id bad_len)", "6 (id bad_nan)",
                        "7 (id outside)", "8 (id no_image)", "9 (id bad_problem)"}
    assert "no area" in bad["3 (id bad_order)"]
    assert "non-numeric" in bad["4 (id bad_type)"]
    assert "4 numbers" in bad["5 (id bad_len)"]
    assert "non-finite" in bad["6 (id bad_nan)"]
    assert "outside the 100x80 image" in bad["7 (id outside)"]
    assert "not found" in bad["8 (id no_image)"] and "missing.png" in bad["8 (id no_image)"]
    assert "'problem' must be a non-empty string" in bad["9 (id bad_problem)"]
    assert all(p.file == str(data_dir / "refcoco.json") for p in res.problems)


def test_refcoco_jsonl(data_dir, tmp_path):
    path = tmp_path / "rc.jsonl"
    path.write_text('{"image": "images/a.png", "problem": "x", "solution": [1, 1, 4, 4]}\n{broken\n')
    res = get_loader("refcoco")(str(path), str(data_dir), "rc")
    assert [s.id for s in res.samples] == ["rc/rc:1"]
    assert res.problems[0].row == "line 2" and "invalid JSON" in res.problems[0].reason


def test_coco_one_sample_per_image(data_dir):
    res = get_loader("coco")(str(data_dir / "coco_instances.json"), str(data_dir / "coco"), "coco")
    by_id = {s.id: s for s in res.samples}
    assert sorted(by_id) == ["coco/1", "coco/2", "coco/5", "coco/6"]  # 6 has no objects: kept (answer [])
    assert by_id["coco/6"].solution == {"objects": []}
    no_empty = get_loader("coco")(str(data_dir / "coco_instances.json"), str(data_dir / "coco"), "coco",
                                  keep_empty=False)
    assert "coco/6" not in {s.id for s in no_empty.samples}
    s1 = by_id["coco/1"]
    assert s1.task == "detection"
    assert s1.solution["objects"] == [{"bbox": [2.0, 3.0, 12.0, 15.0], "label": "cat", "area": 120.0},
                                      {"bbox": [20.0, 5.0, 28.0, 13.0], "label": "dog", "area": 64.0}]
    assert s1.solution["ignore"] == [{"bbox": [0.0, 0.0, 64.0, 48.0], "label": "dog", "area": 3072.0}]  # crowd
    assert "cat, dog, bird" in s1.prompt
    bad = reasons(res)
    assert set(bad) == {"image 3", "image 4"}
    assert "no area" in bad["image 3"] and "not found" in bad["image 4"]


def test_coco_options(data_dir):
    load = get_loader("coco")
    path, root = str(data_dir / "coco_instances.json"), str(data_dir / "coco")
    res = load(path, root, "coco", categories=["dog"], max_objects=2)
    assert [s.id for s in res.samples] == ["coco/1"]  # image 5 has 3 dogs > max_objects
    left_out = "images left out on purpose (no kept objects, or more than max_objects=2)"
    assert res.notes == {left_out: 5}  # images 2, 3, 4, 6 (no dog) and 5
    assert res.samples[0].solution["objects"] == [{"bbox": [20.0, 5.0, 28.0, 13.0], "label": "dog", "area": 64.0}]
    assert "'dog'" in res.samples[0].prompt
    with pytest.raises(ValueError, match="categories \\['cow'\\] are not in"):
        load(path, root, "coco", categories=["cow"])
    shots = load(path, root, "coco", shots_per_category=1, seed=3)
    assert len(shots.samples) + len(shots.problems) == 3  # one shot for each of 3 categories
    assert any("no area" in p.reason for p in shots.problems)  # bird's only image has a bad box
    for s in shots.samples:
        assert len({o["label"] for o in s.solution["objects"]}) == 1
        assert s.solution["objects"][0]["label"] in s.prompt
    assert shots.samples == load(path, root, "coco", shots_per_category=1, seed=3).samples


def test_chartqa_official_and_list_forms(data_dir):
    load = get_loader("chartqa")
    res = load(str(data_dir / "chartqa/train_human.json"), str(data_dir / "chartqa"), "cq")
    by_id = {s.id: s for s in res.samples}
    assert sorted(by_id) == ["cq/train_human:0", "cq/train_human:1"]
    assert by_id["cq/train_human:0"].solution == {"answer": "12.5"}
    assert by_id["cq/train_human:1"].solution == {"answer": "4"}
    assert by_id["cq/train_human:0"].images == [str(data_dir / "chartqa/png/c1.png")]
    assert by_id["cq/train_human:0"].meta["split"] == "human" and by_id["cq/train_human:0"].task == "chart"
    assert set(reasons(res)) == {"2", "3", "4"}
    res2 = load(str(data_dir / "chartqa/qa_list.json"), str(data_dir / "chartqa"), "cq", "vqa")
    assert [s.solution["answer"] for s in res2.samples] == ["30", "Apples"]
    assert res2.samples[0].meta == {"split": "augmented"} and res2.samples[1].meta == {}
    assert res2.samples[1].images == [str(data_dir / "chartqa/png/c2.png")]  # found via image_dir
    assert not res2.problems and res2.samples[0].task == "vqa"


def test_screenspot(data_dir):
    res = get_loader("screenspot")(str(data_dir / "screenspot_mobile.json"), str(data_dir / "screenspot"), "ss")
    assert [s.id for s in res.samples] == ["ss/screenspot_mobile:0", "ss/screenspot_mobile:1"]
    s0 = res.samples[0]
    assert s0.solution == {"action": "click", "bbox": [10.0, 20.0, 40.0, 35.0]}
    assert s0.meta == {"data_type": "icon", "data_source": "ios", "group": "mobile"}
    assert s0.images == [str(data_dir / "screenspot/images/mobile_0.png")]
    assert set(reasons(res)) == {"2", "3"}


def test_screenspot_pro(data_dir):
    res = get_loader("screenspot_pro")(str(data_dir / "screenspot_pro/pycharm_macos.json"),
                                       str(data_dir / "screenspot_pro"), "ssp")
    assert [s.id for s in res.samples] == ["ssp/pycharm_macos_0"]
    s = res.samples[0]
    assert s.solution == {"action": "click", "bbox": [100.0, 50.0, 140.0, 70.0]}
    assert s.meta["application"] == "pycharm" and s.meta["width"] == 320
    bad = reasons(res)
    assert "outside the 320x200 image" in bad["1 (id pycharm_macos_1)"]
    assert "img_size" in bad["2 (id pycharm_macos_2)"]


def test_media_check_can_be_disabled(data_dir):
    res = get_loader("refcoco")(str(data_dir / "refcoco.json"), str(data_dir), "rc", check_media=False)
    assert "rc/refcoco:no_image" in {s.id for s in res.samples}


def test_empty_media_file_is_a_problem(data_dir):
    (data_dir / "images/a.png").write_bytes(b"")
    res = get_loader("refcoco")(str(data_dir / "refcoco.json"), str(data_dir), "rc")
    assert any("empty" in p.reason for p in res.problems)
    assert "rc/refcoco:r0" not in {s.id for s in res.samples}
