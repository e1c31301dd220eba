// `make bench`: release-build throughput of dataprep's stages, printed as one table on stdout
// (progress on stderr). Each section compares with the reference tool in the same run.
var sections: [Section] = []
sections.append(try codecsBenchmarks())
printTable(sections)
