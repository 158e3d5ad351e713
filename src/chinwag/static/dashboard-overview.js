// The overview page: show and hide secret keys, and each setting's warning as it is toggled.
for (const button of document.querySelectorAll("[data-reveal]")) {
  button.addEventListener("click", () => {
    const code = button.previousElementSibling;
    const shown = button.textContent === "Hide";
    code.textContent = shown ? code.dataset.secret.slice(0, 12) + "…" : code.dataset.secret;
    button.textContent = shown ? "Show" : "Hide";
  });
}
for (const box of document.querySelectorAll(".settings input[type=checkbox]")) {
  box.addEventListener("change", () => {
    const warning = document.querySelector(`[data-for="${box.name}"]`);
    if (warning) warning.hidden = box.checked;
  });
}
