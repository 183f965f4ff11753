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
function designerSelect(nodeId) {
  document.querySelectorAll(".node.selected, .line.selected").forEach((el) => el.classList.remove("selected"));
  const node = document.getElementById(nodeId);
  if (!node) return;
  node.classList.add("selected");
  const [a, b] = (node.dataset.lines || "").split("-").map(Number);
  for (let n = a; n <= b; n++) document.getElementById(`L${n}`)?.classList.add("selected");
  document.getElementById(`L${a}`)?.scrollIntoView({ block: "nearest" });
}
document.addEventListener("click", (e) => {
  const node = e.target.closest(".graph .node");
  if (node) return designerSelect(node.id);
  const line = e.target.closest("#source .line");
  if (line && line.dataset.node) designerSelect(line.dataset.node);
});
document.addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  const node = e.target.closest && e.target.closest(".graph .node");
  if (node) designerSelect(node.id);
});
