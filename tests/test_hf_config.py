"""ModelShape.from_hf_config: LLaMA-family, Mistral and GPT-2 configs, local files only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitecheck import ROOT
from specdec.hf_config import MAX_CONFIG_BYTES, gpt2_params_left_out, shape_from_hf_config
from specdec.roofline import MODELS, ModelShape, forward_cost

# The released config.json values of the Llama 2 checkpoints (the presets' sources quote them).
LLAMA_2 = {
    "llama-2-7b": dict(hidden_size=4096, intermediate_size=11008, num_attention_heads=32,
                       num_key_value_heads=32, num_hidden_layers=32),
    "llama-2-13b": dict(hidden_size=5120, intermediate_size=13824, num_attention_heads=40,
                        num_key_value_heads=40, num_hidden_layers=40),
    "llama-2-70b": dict(hidden_size=8192, intermediate_size=28672, num_attention_heads=64,
                        num_key_value_heads=8, num_hidden_layers=80),
}  # fmt: skip


def llama_config(key):
    return {"model_type": "llama", "vocab_size": 32000, "tie_word_embeddings": False, **LLAMA_2[key]}


@pytest.mark.parametrize("key", list(LLAMA_2))
def test_llama_2_configs_reproduce_the_presets(key, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"_name_or_path": f"meta-llama/{key}", **llama_config(key)}), encoding="utf-8")
    preset = MODELS[key]
    for config in (path, str(path), tmp_path, llama_config(key)):  # file, str, directory, dict
        shape = ModelShape.from_hf_config(config)
        assert shape.n_params == preset.n_params
        assert shape.kv_cache_bytes_per_token() == preset.kv_cache_bytes_per_token()
        for field in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ffn", "vocab_size"):
            assert getattr(shape, field) == getattr(preset, field)
    assert ModelShape.from_hf_config(path).name == f"meta-llama/{key}"
    assert str(path) in ModelShape.from_hf_config(path).source
    assert forward_cost(ModelShape.from_hf_config(path), "h200").time_s == forward_cost(preset, "h200").time_s


def test_defaults_and_names(tmp_path):
    config = llama_config("llama-2-70b")
    del config["num_key_value_heads"], config["tie_word_embeddings"]
    shape = shape_from_hf_config(config)
    assert shape.n_kv_heads == shape.n_heads == 64 and shape.tied_embeddings is False
    assert shape.name == "hf-config"
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(llama_config("llama-2-7b")), encoding="utf-8")
    assert shape_from_hf_config(folder).name == "my-model"
    assert shape_from_hf_config(folder, name="mine").name == "mine"
    explicit = shape_from_hf_config({**llama_config("llama-2-7b"), "head_dim": 64})
    assert explicit.head_dim == 64  # head_dim when present wins over hidden_size / heads


def test_mistral_shaped_config_with_gqa():
    config = {
        "model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
        "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000, "sliding_window": None,
    }  # fmt: skip
    shape = shape_from_hf_config(config)
    per_layer = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336
    assert shape.n_params == 32 * per_layer + 2 * 32000 * 4096 + 65 * 4096
    with pytest.raises(ValueError, match=r"^sliding_window: "):
        shape_from_hf_config({**config, "sliding_window": 4096})
    assert shape_from_hf_config({**config, "sliding_window": 4096, "use_sliding_window": False}).n_params == (
        shape.n_params
    )


def test_gpt2_small_adds_up_to_its_published_count(tmp_path):
    config = {
        "model_type": "gpt2",
        "n_embd": 768,
        "n_layer": 12,
        "n_head": 12,
        "vocab_size": 50257,
        "n_positions": 1024,
    }
    path = tmp_path / "gpt2.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    shape = ModelShape.from_hf_config(path)
    assert shape.gated_ffn is False and shape.tied_embeddings is True and shape.d_ffn == 3072
    assert shape.n_params + gpt2_params_left_out(path) == 124_439_808  # GPT-2 small, as released
    inferred = shape_from_hf_config({k: v for k, v in config.items() if k != "model_type"})
    assert inferred.n_params == shape.n_params  # n_embd and friends identify GPT-2


@pytest.mark.parametrize(
    "missing", ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"]
)
def test_missing_llama_key_is_named(missing):
    config = llama_config("llama-2-7b")
    del config[missing]
    with pytest.raises(ValueError, match=rf"^{missing}: missing from config"):
        shape_from_hf_config(config)


@pytest.mark.parametrize("missing", ["n_embd", "n_layer", "n_head", "vocab_size"])
def test_missing_gpt2_key_is_named(missing):
    config = {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257}
    del config[missing]
    with pytest.raises(ValueError, match=rf"^{missing}: missing from config"):
        shape_from_hf_config(config)


def test_bad_configs(tmp_path):
    with pytest.raises(ValueError, match=r"^model_type: 't5' is not supported"):
        shape_from_hf_config({"model_type": "t5"})
    with pytest.raises(ValueError, match=r"^attention_bias: "):
        shape_from_hf_config({**llama_config("llama-2-7b"), "attention_bias": True})
    with pytest.raises(TypeError, match=r"^hidden_size must be an integer"):
        shape_from_hf_config({**llama_config("llama-2-7b"), "hidden_size": "4096"})
    with pytest.raises(ValueError, match=r"^hidden_size must be >= 1"):
        shape_from_hf_config({**llama_config("llama-2-7b"), "hidden_size": 0})
    with pytest.raises(TypeError, match=r"^tie_word_embeddings must be True or False"):
        shape_from_hf_config({**llama_config("llama-2-7b"), "tie_word_embeddings": "no"})
    with pytest.raises(TypeError, match=r"^config must be a path"):
        shape_from_hf_config(42)
    with pytest.raises(ValueError, match=r"^config: cannot read"):
        shape_from_hf_config(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"is not a JSON file"):
        shape_from_hf_config(bad)
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"must hold a JSON object"):
        shape_from_hf_config(bad)


# -- what transformers writes: null for a default, and the shipped example ------------------------

EXAMPLE = ROOT / "bench" / "configs" / "gpt2" / "config.json"


def test_the_shipped_gpt2_config_reads_as_gpt2_small():
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert data["n_inner"] is None  # as transformers writes it: null means 4 * n_embd
    shape = shape_from_hf_config(EXAMPLE)
    assert shape.name == "openai-community/gpt2" and shape.d_ffn == 4 * 768 and shape.head_dim == 64
    assert shape.n_params + gpt2_params_left_out(EXAMPLE) == 124_439_808  # GPT-2 small, as released


@pytest.mark.parametrize(
    ("key", "field", "default"),
    [
        ("num_key_value_heads", "n_kv_heads", 32),
        ("head_dim", "head_dim", 128),
        ("tie_word_embeddings", "tied_embeddings", False),
    ],
)
def test_null_takes_the_documented_default(key, field, default):
    shape = shape_from_hf_config({**llama_config("llama-2-7b"), key: None})
    assert getattr(shape, field) == default
    gpt2 = {"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100}
    assert shape_from_hf_config({**gpt2, "n_inner": None, "tie_word_embeddings": None}).d_ffn == 256


def test_a_required_key_set_to_null_is_missing():
    with pytest.raises(ValueError, match=r"^hidden_size: missing from config \(required for a llama config"):
        shape_from_hf_config({**llama_config("llama-2-7b"), "hidden_size": None})


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match=r"^num_attention_heads: 12 heads do not divide hidden_size 4096"):
        shape_from_hf_config(
            {**llama_config("llama-2-7b"), "num_attention_heads": 12, "num_key_value_heads": 12}
        )
    with pytest.raises(ValueError, match=r"^n_head: 5 heads do not divide n_embd 768"):
        shape_from_hf_config(
            {"model_type": "gpt2", "n_embd": 768, "n_layer": 2, "n_head": 5, "vocab_size": 10}
        )
    # An explicit head_dim needs no division (the width is then not heads x head_dim).
    shape = shape_from_hf_config(
        {**llama_config("llama-2-7b"), "num_attention_heads": 12, "num_key_value_heads": 12, "head_dim": 128}
    )
    assert shape.head_dim == 128 and shape.n_heads == 12


def test_the_read_is_capped(tmp_path):
    big = tmp_path / "config.json"
    big.write_bytes(b" " * MAX_CONFIG_BYTES + b"{}")
    with pytest.raises(ValueError, match=rf"^config: .* is larger than {MAX_CONFIG_BYTES} bytes \(1 MiB\)"):
        shape_from_hf_config(big)
    big.write_bytes(b" " * (MAX_CONFIG_BYTES - 2) + b"{}")  # exactly the cap: read
    with pytest.raises(ValueError, match=r"^hidden_size: missing"):
        shape_from_hf_config(big)
    if Path("/dev/zero").exists():  # endless: read no further than the cap
        with pytest.raises(ValueError, match=r"^config: '/dev/zero' is larger than"):
            shape_from_hf_config("/dev/zero")
