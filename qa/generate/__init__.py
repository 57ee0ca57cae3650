"""Stage 5, generate: passages -> an answer in words from the user's own model, every
sentence checked against the passages it cites.

``llm`` (the prompt, reading the reply), ``transport`` (the request to the OpenAI-compatible
endpoint, with its wall-clock deadline; ``settings`` there is llm's LLMSettings), ``check`` (the
claim check: figures and places of a sentence must be in its cited passages).  Named ``generate``
because ``qa.answer()`` is the public function."""
