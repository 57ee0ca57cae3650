"""Stage 5, generate: passages -> an answer in words from the user's own model, every
sentence checked against the passages it cites.

``llm`` (the prompt, the OpenAI-compatible client, reading the reply), ``check`` (the claim
check: figures and places of a sentence must be in its cited passages).  Named ``generate``
because ``qa.answer()`` is the public function."""
