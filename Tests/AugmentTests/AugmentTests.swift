// Tests for the Augment module arrive with the issue that implements it.
