"""The pruning config: defaults, presets, and one-line errors naming file, key, value and what is allowed."""
from __future__ import annotations

import dataclasses

import pytest
import yaml

from wann.errors import UserError
from wann.prune.config import (
    DEFAULT_COMPRESSIONS,
    PRESETS,
    Config,
    MethodConfig,
    config_from_dict,
    load_config,
    reference_markdown,
)


def _load(tmp_path, data, overrides=None):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path, overrides)


def test_defaults_match_the_issue():
    c = Config()
    assert c.data.name == "digits" and c.model.layers == [64, 300, 100, 10]
    assert c.model.activation == "relu" and c.train.optimizer == "adam"
    assert sorted(1 / d for d in c.target_densities()) == pytest.approx(sorted(DEFAULT_COMPRESSIONS))
    names = [m.name for m in c.methods]
    for wanted in ("magnitude_trained", "lottery_ticket", "ticket_reinit", "snip", "synflow", "magnitude_init", "random"):
        assert wanted in names
    lt = next(m for m in c.methods if m.name == "lottery_ticket")
    assert (lt.schedule, lt.scope, lt.rate, lt.output_rate, lt.rewind_step) == ("imp", "layer", 0.2, 0.1, 0)
    sf = next(m for m in c.methods if m.name == "synflow")
    assert (sf.schedule, sf.iterations, sf.iterative_schedule, sf.when) == ("iterative", 100, "exponential", "init")


def test_every_field_has_a_one_line_doc_and_presets_are_valid():
    for section in (Config().data, Config().model, Config().train, Config().prune, Config().bridge,
                    Config().run, MethodConfig()):
        for f in dataclasses.fields(section):
            doc = f.metadata["doc"]
            assert doc and "\n" not in doc
    for name in PRESETS:
        c = config_from_dict({"methods": [name]})
        assert c.methods[0].name == name
    assert "`methods[i].criterion`" in reference_markdown()


def test_the_shipped_config_loads(tmp_path):
    c = load_config("configs/prune_digits.yaml")
    assert c.run.name == "prune_digits" and len(c.methods) >= 7
    assert {round(1 / d) for d in c.target_densities()} >= {2, 4, 8, 16, 32, 64, 128}


def test_methods_from_mappings_and_overrides(tmp_path):
    c = _load(tmp_path, {"methods": [
        {"preset": "lottery_ticket", "name": "lth_global", "scope": "global"},
        {"criterion": "obd", "when": "trained"},
        "random_erk",
    ]}, ["train.epochs=3", "run.seed=9"])
    assert [m.name for m in c.methods] == ["lth_global", "obd_one_shot", "random_erk"]
    assert c.methods[0].schedule == "imp" and c.methods[0].scope == "global"
    assert c.train.epochs == 3 and c.run.seed == 9 and c.run.name == "cfg"
    c = _load(tmp_path, {"prune": {"compressions": [4], "densities": [0.5, 0.25]}})
    assert c.target_densities() == [0.5, 0.25]


@pytest.mark.parametrize("data, expected", [
    ({"prune": {"densities": [0.5, 1.5]}}, "prune.densities: 1.5: every value must lie in (0, 1]"),
    ({"prune": {"densities": [0]}}, "prune.densities: 0: every value must lie in (0, 1]"),
    ({"prune": {"compressions": [0.5]}}, "prune.compressions: 0.5: every value must be >= 1"),
    ({"methods": ["lotery_ticket"]}, "methods[0]: 'lotery_ticket': unknown method (did you mean 'lottery_ticket'?)"),
    ({"methods": [{"criterion": "magnitud"}]}, "methods[0].criterion: 'magnitud': allowed: "),
    ({"train": {"epoch": 3}}, "train.epoch: unknown key (did you mean 'epochs'?)"),
    ({"trian": {"epochs": 3}}, "trian: unknown section (did you mean 'train'?)"),
    ({"train": {"lr": -1}}, "train.lr: -1: must be > 0"),
    ({"train": {"epochs": "many"}}, "train.epochs: 'many': expected an integer"),
    ({"model": {"activation": "gelu"}}, "model.activation: 'gelu': allowed: relu, tanh, sigmoid, linear"),
    ({"model": {"layers": [64]}}, "model.layers: [64]: expected at least 2 values"),
    ({"methods": [{"preset": "snip", "distribution": "erk"}]}, "methods[0].distribution: 'erk': needs scope: layer"),
    ({"methods": ["snip", "snip"]}, "methods[1].name: 'snip': used twice"),
    ({"methods": [{"preset": "lottery_ticket", "rate": 1.2}]}, "methods[0].rate: 1.2: must lie in (0, 1)"),
    ({"data": {"name": "mnist"}}, "data.path: '': mnist needs the folder"),
])
def test_bad_values_give_one_line_naming_file_key_value_and_what_is_allowed(tmp_path, data, expected):
    with pytest.raises(UserError) as info:
        _load(tmp_path, data)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "cfg.yaml") + ": ")
    assert expected in message


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(UserError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("train: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML at line"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(UserError, match="expected section.key=value"):
        _load(tmp_path, {}, ["epochs=3"])
