"""Stage 1, ingest: files -> documents -> articles -> passages.

``formats`` (a reader per file type: text in any encoding, PDF, .docx, HTML, Markdown),
``worker`` (reading in a process under time and memory limits), ``read`` (clean-up, line
numbers, the corpus listing), ``chunk`` (articles and passages of at most 500 characters),
``metadata`` (each article's region, date, issuer; the bulletin's name), ``corpus`` (the
corpus folder as uploads and deletes change it)."""
