"""One MLP, several frameworks, measured side by side (chapter 7).

``implementations`` holds the model-and-training code of each framework, ``runner`` trains one
configuration in a fresh process and measures it, and ``report`` turns the results into a table
and a figure. ``benchmarks/framework_comparison.py`` runs the full comparison and writes JSON.
"""

__all__ = ["implementations", "report", "runner"]
