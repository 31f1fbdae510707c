// Package glob compiles and matches the glob patterns of the pipeline
// config (branches, tags, paths, ignorePaths): `*` matches any run of
// characters within one path segment, `**` any run across segments (and
// `**/` zero or more whole segments), `?` one character other than `/`, and
// `\` makes the next character literal. Matching is linear-time backtracking
// without regular expressions or allocations.
package glob
