"""Showing a sweep: the terminal table, the results file and the HTML report."""

from chunkopt.report.html import sweep_setup, write_html
from chunkopt.report.results import write_results
from chunkopt.report.table import results_table

__all__ = ["results_table", "sweep_setup", "write_html", "write_results"]
