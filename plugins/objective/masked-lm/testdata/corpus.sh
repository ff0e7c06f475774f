#!/bin/sh
# Writes corpus.txt, the English text configs/mlm.yaml models: attnlab's own
# README and every package's doc comment (doc.go, without the comment
# markers), as they stood when the file was committed. Run from the
# repository root; re-running it later gives a different snapshot.
#
# Usage: sh plugins/objective/masked-lm/testdata/corpus.sh > plugins/objective/masked-lm/testdata/corpus.txt
set -e
cat README.md
for f in $(git ls-files '*doc.go' | sort); do
	printf '\n'
	sed -n 's|^// \{0,1\}||p' "$f"
done
