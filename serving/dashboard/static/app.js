// Small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
	// Filter forms apply as soon as a choice changes, so a rep does not
	// need the Apply button (kept for keyboard and no-script use).
	for (const form of document.querySelectorAll("form[data-autosubmit]")) {
		form.addEventListener("change", () => form.submit());
	}
	// The inbox's header checkbox ticks every alert of the page for the
	// bulk form it names.
	for (const all of document.querySelectorAll("input[data-select-all]")) {
		all.addEventListener("change", () => {
			for (const box of document.querySelectorAll(`input[type=checkbox][form="${all.dataset.selectAll}"]`)) box.checked = all.checked;
		});
	}
	// Activating or rolling back a model changes every score that
	// follows, so ask first.
	for (const form of document.querySelectorAll("form[data-confirm]")) {
		form.addEventListener("submit", (e) => {
			if (!window.confirm(form.dataset.confirm)) e.preventDefault();
		});
	}
});
