// botserver console: the little the pages do with JavaScript beyond htmx. Everything
// works without it (a box to select all rows is the only thing missing then).
document.addEventListener("change", (e) => {
  const all = e.target.closest("[data-select-all]");
  if (!all) return;
  const form = all.closest("form");
  if (!form) return;
  for (const box of form.querySelectorAll('input[type=checkbox][name=id]')) box.checked = all.checked;
});

// The designer: a node shows its lines, a line its node (click or Enter).
function designerSelect(nodeId, fromText) {
  document.querySelectorAll(".node.selected, .line.selected").forEach((el) => el.classList.remove("selected"));
  const node = nodeId && document.getElementById(nodeId);
  if (!node) return designerForm(null);
  node.classList.add("selected");
  const [a, b] = (node.dataset.lines || "").split("-").map(Number);
  for (let n = a; n <= b; n++) document.getElementById(`L${n}`)?.classList.add("selected");
  const text = document.getElementById("text");
  if (text && !fromText) {
    const h = designerLineHeight();
    const top = (a - 1) * h;
    if (top < text.scrollTop || top > text.scrollTop + text.clientHeight - 2 * h) text.scrollTop = Math.max(0, top - 2 * h);
  } else if (!text) {
    document.getElementById(`L${a}`)?.scrollIntoView({ block: "nearest" });
  }
  designerForm(nodeId);
}
document.addEventListener("click", (e) => {
  const node = e.target.closest(".graph .node");
  if (node) return designerSelect(node.id);
  const line = e.target.closest("#source .line");
  if (line && line.dataset.node) designerSelect(line.dataset.node);
  const diag = e.target.closest("#diagnostics li[data-line]");
  if (diag) designerGoToLine(Number(diag.dataset.line));
});
document.addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  const node = e.target.closest && e.target.closest(".graph .node");
  if (node) designerSelect(node.id);
});

// Editing (the page without ?execution=): every change goes to the server's preview,
// which applies it to the text and answers the text, its diagnostics and its graph.
// Requests run one after the other, each on the text as the one before left it.
const designer = {
  root: null, text: null, nodes: [], lineNodes: [], selected: null, queue: Promise.resolve(),
  saved: "", timer: null,
};
function designerLineHeight() {
  const t = document.getElementById("text");
  return t ? parseFloat(getComputedStyle(t).lineHeight) || 18 : 18;
}
function designerStatus(msg, bad) {
  const s = document.getElementById("designer-status");
  if (!s) return;
  s.textContent = msg;
  s.classList.toggle("bad", !!bad);
}
function designerEsc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
async function designerPost(what, body) {
  const d = designer.root.dataset;
  const r = await fetch(`/designer/${encodeURIComponent(d.bot)}/${encodeURIComponent(d.script)}/${what}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": d.csrf },
    body: JSON.stringify(body),
  });
  let v = null;
  try { v = await r.json(); } catch (_) { v = { message: `the server answered ${r.status}` }; }
  return { ok: r.ok, status: r.status, v };
}
// Queues a preview of `edits` on the current text; `then(result, oldSource)` after.
function designerPreview(edits, then) {
  designer.queue = designer.queue.then(async () => {
    const old = designer.text.value;
    const { ok, v } = await designerPost("preview", { source: old, edits });
    if (!ok) return designerStatus(v.message || "the change was refused", true);
    designerShow(v, old);
    if (then) then(v, old);
  }).catch((e) => designerStatus(`no answer from the server: ${e}`, true));
  return designer.queue;
}
function designerShow(v, old) {
  const text = designer.text;
  if (v.source !== text.value && text.value === old) {
    const top = text.scrollTop;
    text.value = v.source;
    text.scrollTop = top;
  }
  const pe = document.getElementById("parse-error");
  if (v.svg) {
    document.getElementById("graph").innerHTML = v.svg;
    designer.nodes = v.nodes || [];
    designer.lineNodes = v.line_nodes || [];
    pe.hidden = true;
  } else {
    pe.textContent = `The text does not parse, so the graph shows the last version that did: ${v.parse_error}`;
    pe.hidden = false;
  }
  // The backdrop behind the text: line numbers, the selection, the diagnostics.
  const byLine = {};
  for (const d of v.diagnostics) (byLine[d.line] = byLine[d.line] || []).push(d);
  const lines = v.source.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  document.getElementById("source").innerHTML = lines.map((l, i) => {
    const ds = byLine[i + 1] || [];
    const cls = ds.some((d) => d.severity === "error") ? "diag-error" : ds.length ? "diag-warning" : "";
    const title = ds.length ? ` title="${designerEsc(ds.map((d) => d.message).join("; "))}"` : "";
    return `<span class="line ${cls}" id="L${i + 1}" data-node="${designer.lineNodes[i] || ""}"${title}><span class="ln">${i + 1}</span>${designerEsc(l.replace(/\r$/, ""))}\n</span>`;
  }).join("");
  document.getElementById("diagnostics").innerHTML = v.diagnostics.map((d) =>
    `<li class="d-${designerEsc(d.severity)}" data-line="${d.line}">${d.line}:${d.col} ${designerEsc(d.severity)}: ${designerEsc(d.message)}</li>`).join("");
  const changed = text.value !== designer.saved;
  designerStatus(`${v.errors ? `${v.errors} error(s)` : "no errors"}${changed ? " · not saved" : ""}`, v.errors > 0);
  designerSync();
  if (designer.selected && document.getElementById(designer.selected)) designerSelect(designer.selected, true);
  else designerForm(null);
}
function designerSync() {
  const b = document.getElementById("source");
  b.scrollTop = designer.text.scrollTop;
  b.scrollLeft = designer.text.scrollLeft;
}
function designerGoToLine(n) {
  const text = designer.text;
  if (!text) return;
  const lines = text.value.split("\n");
  let at = 0;
  for (let i = 0; i < n - 1 && i < lines.length; i++) at += lines[i].length + 1;
  text.focus();
  text.setSelectionRange(at, at);
  designerSelect(designer.lineNodes[n - 1] || null, false);
}
const designerFields = {
  bot: [["bot", "Bot", "detail:bot"], ["task", "Task", "detail:task"]],
  approval: [["approver", "Approver", "detail:approver"], ["timeout", "Timeout (seconds)", "detail:timeout"], ["escalate", "Escalate to (comma-separated)", "detail:escalate"]],
  wait_event: [["event", "Event", "detail:events"], ["timeout", "Timeout (seconds)", "detail:timeout"]],
  delay: [["seconds", "Seconds", "detail:seconds"]],
  publish: [["event", "Event", "detail:event"]],
};
function designerForm(nodeId) {
  const form = document.getElementById("node-form");
  if (!form) return;
  designer.selected = nodeId;
  const n = designer.nodes.find((x) => x.id === nodeId);
  const fields = n && designerFields[n.kind];
  if (!fields) { form.hidden = true; return; }
  // The same node (not only the same id: ids follow source order, so an insert above
  // shifts them) keeps its form as it is, with the field being typed in.
  const key = `${n.id}|${n.kind}|${n.lines[0]}`;
  if (!form.hidden && form.dataset.node === key) return;
  form.dataset.node = key;
  document.getElementById("node-title").textContent = n.label;
  document.getElementById("node-fields").innerHTML = fields.map(([f, label, from]) => {
    let v = n.detail[from.slice(7)] || "";
    if (f === "escalate") v = v.split("→").map((s) => s.trim()).filter(Boolean).join(", ");
    return `<p><label>${label}<br><input name="${f}" data-field="${f}" value="${designerEsc(v)}" autocomplete="off"></label></p>`;
  }).join("");
  document.getElementById("move-after").innerHTML = designer.nodes
    .filter((x) => x.id !== nodeId && x.kind !== "end" && x.kind !== "parallel" && x.kind !== "step")
    .map((x) => `<option value="${x.id}">${designerEsc(x.label)}</option>`).join("");
  form.hidden = false;
}
function designerStep(kind) {
  return { bot: { kind, bot: "", task: "" }, approval: { kind, approver: "" }, wait_event: { kind, event: "event_name" },
    delay: { kind, seconds: 60 }, publish: { kind, event: "event_name" } }[kind];
}
// Inserts a step where `place` says (`after:n3`, `before:n5`), then selects it.
function designerInsert(kind, place) {
  const [how, id] = place.split(":");
  designerPreview([{ op: "insert", [how]: id, step: designerStep(kind) }], (v, old) => {
    const a = old.split("\n"), b = v.source.split("\n");
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    const id = designer.lineNodes[i];
    if (id) {
      designer.selected = null;
      designerSelect(id);
      document.querySelector("#node-fields input")?.focus();
    }
  });
}
function designerSetup() {
  const root = document.getElementById("designer");
  if (!root || !root.classList.contains("editing")) return;
  designer.root = root;
  designer.text = document.getElementById("text");
  designer.saved = designer.text.value;
  const text = designer.text;
  text.addEventListener("scroll", designerSync);
  text.addEventListener("input", () => {
    clearTimeout(designer.timer);
    designerStatus("checking…");
    designer.timer = setTimeout(() => designerPreview([]), 300);
  });
  const fromCaret = () => {
    const line = text.value.slice(0, text.selectionStart).split("\n").length;
    const id = designer.lineNodes[line - 1];
    if (id && id !== designer.selected) designerSelect(id, true);
  };
  text.addEventListener("click", fromCaret);
  text.addEventListener("keyup", (e) => { if (e.key.startsWith("Arrow") || e.key === "PageUp" || e.key === "PageDown") fromCaret(); });
  // The node's form: every field change is a `set` edit, sent as the user types.
  const fieldTimers = {};
  document.getElementById("node-fields").addEventListener("input", (e) => {
    const f = e.target.dataset.field;
    if (!f) return;
    const node = designer.selected;
    clearTimeout(fieldTimers[f]);
    designerStatus("checking…");
    fieldTimers[f] = setTimeout(() => designerPreview([{ op: "set", node, field: f, value: e.target.value }]), 250);
  });
  document.getElementById("node-form").addEventListener("submit", (e) => e.preventDefault());
  document.getElementById("node-delete").addEventListener("click", () => {
    const node = designer.selected;
    designer.selected = null;
    designerPreview([{ op: "delete", node }]);
  });
  document.getElementById("node-move").addEventListener("click", () => {
    const node = designer.selected;
    const after = document.getElementById("move-after").value;
    designer.selected = null;
    designerPreview([{ op: "move", node, after }]);
  });
  // The palette: drag a step onto an edge, or press it to insert after the selected node.
  let drag = null;
  const target = (x, y) => document.elementFromPoint(x, y)?.closest(".edge-hit") || null;
  document.querySelectorAll(".palette-item").forEach((item) => {
    item.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      const ghost = document.createElement("div");
      ghost.className = "drag-ghost";
      ghost.textContent = item.textContent;
      document.body.appendChild(ghost);
      drag = { kind: item.dataset.kind, ghost, over: null, moved: false };
      ghost.style.left = `${e.clientX + 8}px`;
      ghost.style.top = `${e.clientY + 8}px`;
    });
    item.addEventListener("click", () => {
      if (item.dataset.dragged) { delete item.dataset.dragged; return; }
      const node = designer.selected;
      if (!node) return designerStatus("select a node first, or drag the step onto an arrow", true);
      designerInsert(item.dataset.kind, `after:${node}`);
    });
  });
  document.addEventListener("pointermove", (e) => {
    if (!drag) return;
    drag.moved = true;
    drag.ghost.style.left = `${e.clientX + 8}px`;
    drag.ghost.style.top = `${e.clientY + 8}px`;
    const t = target(e.clientX, e.clientY);
    if (t !== drag.over) {
      drag.over?.classList.remove("drop-target");
      t?.classList.add("drop-target");
      drag.over = t;
    }
  });
  document.addEventListener("pointerup", (e) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    d.ghost.remove();
    d.over?.classList.remove("drop-target");
    const t = target(e.clientX, e.clientY);
    if (d.moved && t) {
      document.querySelector(`.palette-item[data-kind="${d.kind}"]`).dataset.dragged = "1";
      designerInsert(d.kind, t.dataset.drop);
    }
  });
  document.querySelector('#editor-form button[value="check"]').addEventListener("click", (e) => {
    e.preventDefault();
    designerPreview([]);
  });
  // The first look: the nodes and the line owners the forms need. Then every 10 s, while
  // nothing is being typed or dragged, again: the badges count the executions at each
  // step as they are now.
  designerPreview([]);
  setInterval(() => {
    const typing = document.activeElement && document.activeElement.closest("#node-fields");
    if (!drag && !typing && !document.hidden) designerPreview([]);
  }, 10000);
  // Review and save: the diff and the executions on the current version first.
  document.getElementById("review-button").addEventListener("click", async (e) => {
    e.preventDefault();
    await designer.queue;
    const { ok, v } = await designerPost("review", { source: text.value, base: document.getElementById("base").value });
    const section = document.getElementById("review");
    if (!ok) { designerStatus(v.message || "the review failed", true); return; }
    const rows = v.diff.map((d) => {
      const cls = { "+": "add", "-": "del", " ": "same" }[d.tag] || "gap";
      return `<tr class="diff-${cls}"><td class="ln">${d.old ?? ""}</td><td class="ln">${d.new ?? ""}</td><td class="tag">${designerEsc(d.tag)}</td><td><code>${designerEsc(d.text)}</code></td></tr>`;
    }).join("");
    section.innerHTML = `<h2>Review</h2>` +
      (v.changed ? `<p class="problem">The file changed on disk since it was opened: saving would be a conflict. Open it again.</p>` : "") +
      `<p id="review-running">${v.running} execution(s) run on the version on disk: they finish on it; new ones start on the saved version.</p>` +
      (rows ? `<table class="diff">${rows}</table>` : `<p>No change.</p>`) +
      `<p><button type="button" id="save-confirm">Save</button> <button type="button" id="save-cancel">Back to editing</button></p><p id="save-outcome" role="status"></p>`;
    section.hidden = false;
    section.scrollIntoView({ block: "nearest" });
    document.getElementById("save-cancel").addEventListener("click", () => { section.hidden = true; });
    document.getElementById("save-confirm").addEventListener("click", async () => {
      const out = document.getElementById("save-outcome");
      const r = await designerPost("save", { source: text.value, base: document.getElementById("base").value });
      if (!r.ok) { out.textContent = r.v.message || `not saved (${r.status})`; out.className = "problem"; return; }
      document.getElementById("base").value = r.v.hash;
      designer.saved = text.value;
      section.hidden = true;
      designerStatus(r.v.notice);
    });
  });
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", designerSetup);
else designerSetup();
