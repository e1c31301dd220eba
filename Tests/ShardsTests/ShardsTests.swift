// Tests for the Shards module arrive with the issue that implements it.
