# tests/coverage.awk - an lcov tracefile to a per-file table of line
# coverage: file, lines hit, lines with code, percent, then the total.
# Usage: awk -v root=/abs/srcdir/ -f tests/coverage.awk src.info
# (make coverage-report writes tests/out/coverage/summary.txt with it).
/^SF:/ {
	file = substr($0, 4)
	if (index(file, root) == 1)
		file = substr(file, length(root) + 1)
}
/^LF:/ { lf[file] = substr($0, 4) + 0 }
/^LH:/ { lh[file] = substr($0, 4) + 0 }
function pct(h, n) { return n ? 100 * h / n : 100 }
END {
	n = 0
	for (f in lf)
		names[++n] = f
	# insertion sort: a few dozen files, and no gawk-only asort
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && names[j - 1] > names[j]; j--) {
			t = names[j]; names[j] = names[j - 1]; names[j - 1] = t
		}
	printf "%-28s %6s %6s %6s\n", "file", "hit", "lines", "%"
	for (i = 1; i <= n; i++) {
		f = names[i]
		printf "%-28s %6d %6d %6.1f\n", f, lh[f], lf[f], pct(lh[f], lf[f])
		th += lh[f]; tl += lf[f]
	}
	printf "%-28s %6d %6d %6.1f\n", "total", th, tl, pct(th, tl)
}
