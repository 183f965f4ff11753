// botserver console: the little the pages do with JavaScript beyond htmx. Everything
// works without it (a box to select all rows is the only thing missing then).
document.addEventListener("change", (e) => {
  const all = e.target.closest("[data-select-all]");
  if (!all) return;
  const form = all.closest("form");
  if (!form) return;
  for (const box of form.querySelectorAll('input[type=checkbox][name=id]')) box.checked = all.checked;
});
