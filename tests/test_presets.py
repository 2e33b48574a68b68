"""Presets as data: ``src/specdec/data/presets.toml``, and everything that lists presets follows it.

A preset appended to a copy of the data file (read with ``load_presets(path)`` and put in place of
``HARDWARE`` / ``MODELS``) must show up in ``specdec presets``, in the roofline plot (one more panel)
and in every table on the arithmetic-intensity page that loops over the presets.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import json
import math
import re
import runpy
from importlib import resources

import matplotlib
import pytest

from sitecheck import ROOT
from specdec import cli
from specdec import roofline as rl
from specdec.perf import presets

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

PAGE = ROOT / "docs" / "arithmetic-intensity.md"
PLOT = ROOT / "docs" / "_plots" / "roofline.py"
DATA = resources.files("specdec").joinpath("data/presets.toml").read_text(encoding="utf-8")

NEW_GPU = """
[[hardware]]
name = "test-gpu"
peak_tflops = { bf16 = 400, fp32 = 50 }
printed_with_sparsity = ["bf16"]
bandwidth_tb_per_s = 2
memory_gb = 48
source = "invented for a test"
"""
NEW_MODEL = """
[[model]]
name = "llama-2-test"
family = "llama-2"
hf_repo = "example/Llama-2-test-hf"
n_layers = 4
d_model = 1024
n_heads = 16
n_kv_heads = 4
d_ffn = 2816
published_params = 0.2e9
"""


def load(tmp_path, extra: str):
    path = tmp_path / "presets.toml"
    path.write_text(DATA + extra, encoding="utf-8")
    return rl.load_presets(path)


@pytest.fixture
def extended(tmp_path, monkeypatch):
    """HARDWARE and MODELS read from a copy of the data file with one more preset of each kind."""
    hardware, models = load(tmp_path, NEW_GPU + NEW_MODEL)
    # The library looks presets up in specdec.perf.presets; the pages import them from specdec.roofline.
    for module in (presets, rl):
        monkeypatch.setattr(module, "HARDWARE", hardware)
        monkeypatch.setattr(module, "MODELS", models)
    return hardware, models


# -- the loader ----------------------------------------------------------------------------------


def test_default_file_gives_the_public_mappings():
    hardware, models = rl.load_presets()
    assert list(hardware) == ["a100-sxm-80gb", "h100-sxm", "h200", "rtx-3090", "tpu-v4"]
    assert list(models) == ["llama-2-7b", "llama-2-13b", "llama-2-70b", "grammar-tutor"]
    assert hardware == rl.HARDWARE and models == rl.MODELS
    # Peaks printed with sparsity are halved; units come from the key names.
    assert hardware["h200"].peak_flops_per_s["bf16"] == 1979e12 / 2
    assert hardware["h100-sxm"].peak_flops_per_s["bf16"] == 989.4 * 1e12
    assert hardware["tpu-v4"].memory_bytes == 32 * 2**30
    assert hardware["h100-sxm"].bandwidth_bytes_per_s == 3.35 * 1e12


def test_llama_sources_quote_their_own_record():
    src = rl.MODELS["llama-2-70b"].source
    assert "meta-llama/Llama-2-70b-hf: hidden_size 8192, intermediate_size 28672" in src
    assert "num_key_value_heads 8 (grouped-query attention), num_hidden_layers 80" in src
    assert src.endswith("taken as 69B parameters")
    assert "grouped-query" not in rl.MODELS["llama-2-13b"].source
    assert rl.MODELS["llama-2-7b"].source.endswith(
        "taken as 6.74B parameters. Vicuna-7B v1.3, the Spec-Bench target, is assumed to share this shape"
    )
    assert rl.MODELS["llama-2-7b"].head_dim == 4096 // 32


def test_a_new_record_is_read_in_file_order(tmp_path):
    hardware, models = load(tmp_path, NEW_GPU + NEW_MODEL)
    assert list(hardware)[-1] == "test-gpu" and list(models)[-1] == "llama-2-test"
    gpu = hardware["test-gpu"]
    assert gpu.peak("bf16") == 200e12 and gpu.bandwidth_bytes_per_s == 2e12 and gpu.memory_bytes == 48e9
    m = models["llama-2-test"]
    assert (m.head_dim, m.vocab_size, m.gated_ffn, m.tied_embeddings) == (64, 32000, True, False)
    assert "Llama-2-test-hf: hidden_size 1024" in m.source and "(grouped-query attention)" in m.source
    assert m.source.endswith("taken as 0.2B parameters")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (NEW_GPU.replace("memory_gb", "memory_gigs"), r"hardware 'test-gpu': unknown field\(s\) memory_gigs"),
        (NEW_GPU.replace("memory_gb = 48", "memory_gb = 48\nmemory_gib = 44"), "memory_bytes is given twice"),
        (NEW_GPU.replace('["bf16"]', '["fp8"]'), "printed_with_sparsity a list of its dtypes"),
        (NEW_GPU.replace("bf16 = 400", "bf16 = -400"), r"peak_tflops\.bf16 must be"),
        (NEW_GPU.replace("bf16", "bfloat"), "peak_flops_per_s key: unknown dtype 'bfloat'"),
        (NEW_GPU.replace("memory_gb = 48\n", ""), "memory_bytes"),
        (NEW_GPU.replace("test-gpu", "h200"), "hardware 'h200': a second preset with this name"),
        (NEW_MODEL.replace('"llama-2"', '"llama-3"'), "unknown family 'llama-3'"),
        (NEW_MODEL.replace("n_layers", "layers"), r"unknown field\(s\) layers"),
        (NEW_MODEL.replace("n_kv_heads = 4", "n_kv_heads = 5"), "n_kv_heads must divide n_heads"),
        ("[[hardwares]]\n", r"unknown field\(s\) hardwares"),
        ("[[hardware]\n", "presets.toml: "),
    ],
)
def test_bad_records_name_the_file_preset_and_field(tmp_path, extra, message):
    with pytest.raises(ValueError, match=message) as info:
        load(tmp_path, extra)
    assert str(info.value).startswith(str(tmp_path / "presets.toml"))


def test_path_must_be_a_path():
    with pytest.raises(TypeError, match="^path must be a path to a TOML file, got 42"):
        rl.load_presets(42)


# -- everything that lists presets follows the file ---------------------------------------------------


def test_new_presets_appear_in_the_cli_list(extended, capsys):
    assert cli.main(["presets"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  test-gpu +bf16 200 TFLOP/s, fp32 50 TFLOP/s; 2000 GB/s; 48 GB$", out, re.M)
    assert "source: invented for a test" in out
    assert re.search(r"^  llama-2-test +4 layers, d_model 1024, heads 16/4 kv", out, re.M)
    assert cli.main(["presets", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["hardware"])[-1] == "test-gpu" and list(data["models"])[-1] == "llama-2-test"
    assert cli.main(["roofline", "--hardware", "test-gpu", "--model", "llama-2-test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["forward_cost"]["hardware"] == "test-gpu"


def draw_roofline_plot():
    plt.close("all")
    runpy.run_path(str(PLOT), run_name="__main__")  # sets sys.argv[0] to the script, as the directive does
    fig = plt.gcf()
    panels = [ax.get_title() for ax in fig.axes if ax.axison]
    return fig, panels


def check_layout(fig, panels, hardware):
    assert panels == [f"{key} ({rl.half_precision_dtype(hw)})" for key, hw in hardware.items()]
    assert len(fig.axes) == 2 * math.ceil(len(hardware) / 2)  # two panels per row
    assert fig.get_size_inches()[0] == pytest.approx(5.0)
    sizes = {t.get_text(): t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()}
    small = {text: size for text, size in sizes.items() if size < 10}
    assert not small, f"text below 10 pt: {small}"
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    assert len(legends) == 1 and len(legends[0].get_texts()) == 3


def test_roofline_plot_draws_one_panel_per_preset_legend_in_the_spare_place():
    fig, panels = draw_roofline_plot()
    check_layout(fig, panels, rl.HARDWARE)
    assert len(rl.HARDWARE) % 2 == 1 and not fig.legends  # five presets: the legend fills the sixth place
    plt.close(fig)


def test_a_new_hardware_preset_gets_its_panel(extended):
    fig, panels = draw_roofline_plot()
    check_layout(fig, panels, extended[0])
    assert panels[-1] == "test-gpu (bf16)" and len(fig.legends) == 1  # six presets: the legend below
    plt.close(fig)


def run_page_examples() -> list[doctest.Example]:
    """Every example of the page, run in order in one namespace; returns them with ``.got`` set."""
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```pycon\n(.*?)^```", text, re.S | re.M)
    examples = [ex for block in blocks for ex in doctest.DocTestParser().get_examples(block)]
    namespace: dict = {}
    exec("import numpy as np", namespace)
    for ex in examples:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(ex.source, str(PAGE), "single"), namespace)
        ex.got = out.getvalue()
    return examples


def test_new_presets_appear_in_every_preset_table_on_the_page(extended):
    examples = run_page_examples()
    tables = {
        name: [ex for ex in examples if re.search(rf"^for .* in {name}\b", ex.source, re.M) and ex.want]
        for name in ("HARDWARE", "MODELS")
    }
    assert len(tables["HARDWARE"]) >= 3 and len(tables["MODELS"]) >= 1, tables
    for name, key in (("HARDWARE", "test-gpu"), ("MODELS", "llama-2-test")):
        for ex in tables[name]:
            rows = ex.got.splitlines()
            assert set(ex.want.splitlines()) <= set(rows), f"the page's rows changed:\n{ex.got}"
            assert any(row.startswith(key) for row in rows), f"{key} missing from the table of:\n{ex.source}"
