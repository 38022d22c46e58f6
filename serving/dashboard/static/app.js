// Small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
	// Filter forms apply as soon as a choice changes, so a rep does not
	// need the Apply button (kept for keyboard and no-script use).
	for (const form of document.querySelectorAll("form[data-autosubmit]")) {
		form.addEventListener("change", () => form.submit());
	}
	// Activating or rolling back a model changes every score that
	// follows, so ask first.
	for (const form of document.querySelectorAll("form[data-confirm]")) {
		form.addEventListener("submit", (e) => {
			if (!window.confirm(form.dataset.confirm)) e.preventDefault();
		});
	}
});
