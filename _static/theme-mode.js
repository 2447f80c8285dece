// pydata-sphinx-theme sets <html data-mode> from localStorage, and to "" on a reader's first
// visit, which its own script then reports as a console error before falling back to "auto".
// Start from "auto" (follow the system's light/dark setting) so the first visit is clean too.
if (!document.documentElement.dataset.mode) {
  document.documentElement.dataset.mode = "auto";
}
