// Tests for the Trainer module arrive with the issue that implements it.
