"""Stage 3, index: passages and vectors -> a store retrieval reads.

``base`` (what a store offers and what a build writes through, the errors, the build
report), ``build`` (the build every store shares), ``folder`` (the default store: a version
folder of FAISS, bm25s and JSON), ``checksums`` (its damage check), ``postgres`` and
``postgres_build`` (the same index in PostgreSQL + pgvector), ``stores`` (which store an index
location names), ``bm25`` (the lexical index and the bridges' vocabularies), ``vectors`` (exact
or HNSW FAISS indexes)."""
