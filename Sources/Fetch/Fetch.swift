/// Fetch: the first step of the pipeline. It will hold the dataset registry, resumable verified
/// downloads over libcurl (`CCurl`), safe streaming extraction with libarchive (`CArchive`), the
/// IDX/CIFAR importers, the seeded stratified split and the dataset scan (issue 3).
