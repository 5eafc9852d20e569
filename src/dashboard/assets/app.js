// Progressive enhancement for the server-rendered dashboard. Every page works without it.
(() => {
  // Controls only needed without JavaScript (e.g. the plain "Search" button of a typeahead).
  for (const el of document.querySelectorAll(".js-remove")) el.remove();

  // Phone widths: the navigation collapses behind the Menu button (CSS hides it only once this runs).
  const toggle = document.querySelector("[data-menu-toggle]");
  const nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (toggle && nav) {
    document.documentElement.classList.add("has-menu");
    toggle.hidden = false;
    const setOpen = (open) => {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    };
    toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // Stacked table rows on phones label each cell with its column; pages that did not say, learn it here.
  for (const table of document.querySelectorAll("table.table")) {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => {
        if (!cell.hasAttribute("data-label") && heads[i]) cell.setAttribute("data-label", heads[i]);
      });
    }
  }

  // A list's sort and page size apply as soon as they change.
  for (const sel of document.querySelectorAll("select[data-submit-on-change]")) {
    sel.addEventListener("change", () => sel.form?.requestSubmit());
  }

  // A button that starts work (Sync now) cannot be pressed twice: it is disabled once its form submits.
  for (const btn of document.querySelectorAll("button[data-busy-label]")) {
    btn.form?.addEventListener("submit", () => {
      // After the submit has read the form, so the disabled button still counts as the submitter.
      setTimeout(() => {
        btn.disabled = true;
        btn.textContent = btn.dataset.busyLabel;
      });
    });
  }

  // Team switcher: switch on change.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.querySelector("button")?.classList.add("visually-hidden");
    form.querySelector("select")?.addEventListener("change", () => form.requestSubmit());
  }

  for (const el of document.querySelectorAll("[data-select-on-focus]")) {
    el.addEventListener("focus", () => el.select());
  }

  // "Create a new project" shows the slug field only when chosen.
  for (const sel of document.querySelectorAll("select[data-new-toggle]")) {
    const target = document.getElementById(sel.dataset.newToggle);
    const sync = () => {
      if (target) target.hidden = sel.value !== "__new__";
    };
    sel.addEventListener("change", () => {
      sync();
      if (!target.hidden) target.querySelector("input")?.focus();
    });
    sync();
  }

  // Sync progress: poll the operation, then reload to show the result.
  for (const el of document.querySelectorAll("[data-poll]")) {
    const url = el.dataset.poll;
    const text = el.querySelector("[data-progress-text]");
    const tick = async () => {
      try {
        const res = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
        if (res.ok) {
          const op = await res.json();
          if (text) text.textContent = `Sync ${op.status}…${op.progress_text}`;
          if (op.done) {
            // The page of the finished operation shows its result (and Sync now enabled again).
            if (el.dataset.doneUrl) location.assign(el.dataset.doneUrl);
            else location.reload();
            return;
          }
        }
      } catch {}
      setTimeout(tick, 700);
    };
    setTimeout(tick, 400);
  }

  // Typeahead: debounced server-side search, listbox with arrow keys + Enter, Escape to close.
  for (const box of document.querySelectorAll("[data-typeahead]")) {
    const input = box.querySelector('input[role="combobox"]');
    const list = box.querySelector('[role="listbox"]');
    const value = box.querySelector("[data-typeahead-value]");
    const picked = box.querySelector("[data-typeahead-picked]");
    const instField = document.getElementById(box.dataset.installationField);
    const allowRef = box.dataset.allowRef || "";
    let timer = null;
    let seq = 0;
    let active = -1;

    const options = () => [...list.querySelectorAll('[role="option"]')];
    const open = (yes) => {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) {
        active = -1;
        input.removeAttribute("aria-activedescendant");
      }
    };
    const highlight = (i) => {
      const opts = options();
      if (!opts.length) return;
      active = (i + opts.length) % opts.length;
      opts.forEach((o, n) => {
        o.classList.toggle("active", n === active);
        o.setAttribute("aria-selected", n === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", opts[active].id);
      opts[active].scrollIntoView({ block: "nearest" });
    };
    const choose = (opt) => {
      if (!opt || opt.getAttribute("aria-disabled") === "true") return;
      value.value = opt.dataset.id;
      picked.textContent = "";
      const strong = document.createElement("strong");
      strong.textContent = opt.dataset.label;
      picked.append("Selected: ", strong, opt.dataset.detail ? ` · ${opt.dataset.detail}` : "");
      input.value = opt.dataset.label;
      open(false);
    };
    const search = async () => {
      const inst = instField?.value ?? "";
      if (!inst) {
        list.innerHTML =
          '<li role="option" class="option option-empty" aria-disabled="true" id="opt-none">Pick an installation first</li>';
        open(true);
        return;
      }
      const mine = ++seq;
      const params = new URLSearchParams({ installation_id: inst, q: input.value.trim() });
      if (allowRef) params.set("allow_ref", allowRef);
      const res = await fetch(`${box.dataset.source}?${params}`, { credentials: "same-origin" });
      if (mine !== seq || !res.ok) return;
      // Server-rendered, escaped fragment of <li role="option"> elements.
      list.innerHTML = await res.text();
      open(true);
      active = -1;
      const first = options().findIndex((o) => o.getAttribute("aria-disabled") !== "true");
      if (first >= 0 && input.value.trim()) highlight(first);
    };
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    };

    input.addEventListener("input", () => {
      value.value = "";
      picked.textContent = "";
      later();
    });
    input.addEventListener("focus", () => {
      if (!value.value) later();
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (list.hidden) search();
        else highlight(active + 1);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        if (!list.hidden) highlight(active - 1);
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0) {
          e.preventDefault();
          choose(options()[active]);
        } else if (!value.value) {
          e.preventDefault();
          search();
        }
      } else if (e.key === "Escape") {
        if (!list.hidden) {
          e.preventDefault();
          open(false);
        }
      }
    });
    input.addEventListener("blur", () => setTimeout(() => open(false), 150));
    list.addEventListener("mousedown", (e) => e.preventDefault());
    list.addEventListener("click", (e) => choose(e.target.closest('[role="option"]')));
    instField?.addEventListener("change", () => {
      value.value = "";
      picked.textContent = "";
      input.value = "";
      open(false);
    });
  }
})();
