"""A statistical parser trained from the sentence templates: an intent classifier and
a slot tagger that understand paraphrases the exact grammar does not match."""
