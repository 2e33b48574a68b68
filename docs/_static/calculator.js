// The calculator page (docs/calculator.md). Nothing heavy loads with the page: the button imports
// Pyodide from this site's _static/pyodide/, unpacks _static/specdec-calculator.zip (specdec's own
// modules, zipped from src/ by the build) and calls specdec_calculator.calculate, which runs the
// command line's `speedup` and `roofline` on the form's values. No second implementation here: this
// file only moves text between the form and Python, and draws the plot.

const STATIC = new URL(".", import.meta.url);
const PYODIDE = new URL("pyodide/", STATIC);
const ARCHIVE = new URL("specdec-calculator.zip", STATIC);
const SITE_PACKAGES = "/home/pyodide/specdec-calculator";
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  select.append(o);
}

async function startPython(say) {
  say("Loading Python (Pyodide, about 13 MB from this site)…");
  const { loadPyodide } = await import(new URL("pyodide.mjs", PYODIDE).href);
  const pyodide = await loadPyodide({ indexURL: PYODIDE.href });
  say("Loading specdec…");
  const response = await fetch(ARCHIVE);
  if (!response.ok) throw new Error(`could not load ${ARCHIVE.pathname} (HTTP ${response.status})`);
  pyodide.unpackArchive(await response.arrayBuffer(), "zip", { extractDir: SITE_PACKAGES });
  pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(SITE_PACKAGES)})`);
  say("Importing specdec…");
  return pyodide.pyimport("specdec_calculator");
}

function fillMenus(choices) {
  const hardware = $("calc-hardware");
  for (const [key, note] of Object.entries(choices.hardware)) option(hardware, key, `${key} (${note})`);
  option(hardware, "custom", "custom: enter its rates below");
  hardware.value = "h200";
  const model = $("calc-model");
  for (const [key, note] of Object.entries(choices.models)) option(model, key, `${key} (${note})`);
  option(model, "config", "a pasted config.json");
  model.value = "llama-2-7b";
  const dtype = $("calc-dtype");
  for (const key of choices.dtypes) option(dtype, key, key);
}

function showChoices() {
  $("calc-custom").hidden = $("calc-hardware").value !== "custom";
  $("calc-config-box").hidden = $("calc-model").value !== "config";
}

function formFields() {
  const fields = {};
  for (const el of $("calc-form").elements) if (el.name) fields[el.name] = el.value;
  return fields;
}

function showAnswer(answer) {
  const error = $("calc-error");
  const out = $("calc-answer");
  if (answer.error) {
    error.textContent = answer.error;
    error.hidden = false;
    out.hidden = true;
    return;
  }
  error.hidden = true;
  out.hidden = false;  // before the plot is drawn: it takes the width of its box
  const table = $("calc-summary");
  table.replaceChildren();
  for (const [label, value] of answer.summary) {
    const row = table.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    row.append(th);
    row.insertCell().textContent = value;
  }
  drawPlot($("calc-plot"), answer.plot);
  const commands = $("calc-commands");
  commands.replaceChildren();
  for (const { command, output } of answer.commands) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const code = document.createElement("code");
    code.textContent = command;
    summary.append(code);
    const pre = document.createElement("pre");
    pre.className = "calc-output";
    pre.textContent = output;
    details.append(summary, pre);
    commands.append(details);
  }
}

function svg(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// Speedup against k: Theorem 3.8 (c_verify = 1) dashed, the roofline's c_verify(k + 1) solid, the k
// asked for marked. Drawn at the width of its box in CSS pixels, so its text keeps its size on a phone.
function drawPlot(box, plot) {
  const width = Math.max(300, Math.min(box.clientWidth || 640, 720));
  const height = 260;
  const m = { left: 52, right: 12, top: 14, bottom: 42 };
  const ks = plot.k;
  const ymax = Math.max(...plot.theorem, ...plot.roofline, 1) * 1.08;
  const x = (k) => m.left + ((k - 1) / Math.max(ks[ks.length - 1] - 1, 1)) * (width - m.left - m.right);
  const y = (s) => height - m.bottom - (s / ymax) * (height - m.top - m.bottom);
  const root = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "speedup against k: with c_verify = 1 (Theorem 3.8) and with this hardware's c_verify(k + 1)",
  });
  root.append(svg("title", {}, "Speedup against the number of drafted tokens k"));
  const axes = svg("g", { class: "calc-axes" });
  axes.append(svg("line", { x1: m.left, y1: y(0), x2: width - m.right, y2: y(0) }));
  axes.append(svg("line", { x1: m.left, y1: y(0), x2: m.left, y2: m.top }));
  const step = Math.ceil(ks.length / 8);
  for (const k of ks.filter((k) => (k - 1) % step === 0 || k === plot.chosen)) {
    axes.append(svg("text", { x: x(k), y: y(0) + 16, "text-anchor": "middle" }, String(k)));
  }
  for (let s = 0; s <= ymax; s += ymax > 8 ? 2 : 1) {
    axes.append(svg("text", { x: m.left - 6, y: y(s) + 4, "text-anchor": "end" }, String(s)));
    axes.append(svg("line", { class: "calc-grid", x1: m.left, y1: y(s), x2: width - m.right, y2: y(s) }));
  }
  axes.append(svg("text", { x: (m.left + width - m.right) / 2, y: height - 6, "text-anchor": "middle" },
    "k (drafted tokens per step)"));
  axes.append(svg("text", {
    x: 12, y: (m.top + height - m.bottom) / 2, "text-anchor": "middle",
    transform: `rotate(-90 12 ${(m.top + height - m.bottom) / 2})`,
  }, "speedup"));
  root.append(axes);
  const line = (values, cls) => svg("polyline", {
    class: cls, fill: "none", points: ks.map((k, i) => `${x(k)},${y(values[i])}`).join(" "),
  });
  root.append(line(plot.theorem, "calc-theorem"), line(plot.roofline, "calc-roofline"));
  const i = ks.indexOf(plot.chosen);
  if (i >= 0) root.append(svg("circle", { class: "calc-chosen", cx: x(plot.chosen), cy: y(plot.roofline[i]), r: 5 }));
  box.replaceChildren(root);
}

function calculate(python) {
  let answer;
  try {
    answer = JSON.parse(python.calculate(JSON.stringify(formFields())));
  } catch (err) {  // a Python exception the command line does not turn into a one-line error
    answer = { error: String(err.message || err).trim().split("\n").pop() };
  }
  showAnswer(answer);
  window.specdecCalculator.answers += 1;  // what the browser tests wait on
  return answer;
}

async function start() {
  const button = $("calc-start");
  const status = $("calc-status");
  const t0 = performance.now();
  let stage = "";
  const show = () => {
    status.textContent = `${stage} ${((performance.now() - t0) / 1000).toFixed(0)} s`;
  };
  const say = (text) => { stage = text; show(); };
  const ticker = setInterval(show, 500);  // progress, while about 13 MB load
  button.disabled = true;
  let python;
  try {
    python = await startPython(say);
  } catch (err) {
    status.textContent = `The calculator could not start: ${err.message || err}`;
    button.disabled = false;
    return;
  } finally {
    clearInterval(ticker);
  }
  window.specdecCalculator = { answers: 0, startSeconds: null };
  fillMenus(JSON.parse(python.choices()));
  showChoices();
  $("calc-form").hidden = false;
  calculate(python);
  const seconds = (performance.now() - t0) / 1000;
  window.specdecCalculator.startSeconds = seconds;
  status.textContent = `Ready: Python started and answered in ${seconds.toFixed(1)} s. `
    + "Change a value and press Calculate.";
  button.hidden = true;
  $("calc-hardware").addEventListener("change", showChoices);
  $("calc-model").addEventListener("change", showChoices);
  $("calc-form").addEventListener("submit", (event) => {
    event.preventDefault();
    calculate(python);
  });
}

const button = $("calc-start");
if (button) {
  button.hidden = false;
  button.addEventListener("click", start);
}
