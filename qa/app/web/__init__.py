"""The question page (Gradio): ``server`` builds and serves it; see its docstring for the
other modules."""
