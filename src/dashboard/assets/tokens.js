// Copy buttons (API tokens, invite links): a button with data-copy-from names the input to copy.
// The button stays hidden without JavaScript; the input is selectable either way.
(() => {
  for (const button of document.querySelectorAll("[data-copy-from]")) {
    const source = document.getElementById(button.dataset.copyFrom);
    if (!source) continue;
    const status = button.closest("section")?.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", async () => {
      let copied = false;
      try {
        await navigator.clipboard.writeText(source.value);
        copied = true;
      } catch {
        source.focus();
        source.select();
        copied = document.execCommand("copy");
      }
      button.textContent = copied ? "Copied" : "Copy";
      if (status) status.textContent = copied ? "Copied to the clipboard." : "Select the text and copy it.";
    });
  }
})();
