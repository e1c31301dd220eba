// Tests for the Fetch module arrive with the issue that implements it.
