"""Plotting and notebook display: `plt.show`/`plt.pause` do nothing (the parent sets MPLBACKEND=Agg), and the
project finds the `display` and `get_ipython` of a notebook."""

from __future__ import annotations

from dlcodegen.verify.child.state import Run


def display(*_args, **_kwargs):
    return None


class FakeIPython:
    """What `get_ipython()` gives: any attribute is a no-op function (`get_ipython().run_line_magic(...)`)."""

    def __getattr__(self, _name):
        return display


NOTEBOOK_NAMES = {"display": display, "get_ipython": FakeIPython}


def patch_pyplot(run: Run, pyplot) -> None:
    pyplot.show = display
    pyplot.pause = display
    run.note("matplotlib: Agg backend, plt.show()/plt.pause() are no-ops")
