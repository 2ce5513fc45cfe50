"""The verdict's wording: counts read as sentences."""

from chunkopt.verdict import configurations_are, sample_phrase


def test_a_count_of_configurations_agrees_with_its_verb():
    assert configurations_are(1) == "1 configuration is"
    assert configurations_are(3) == "3 configurations are"


def test_the_sample_names_its_groups_when_queries_were_resampled_by_group():
    assert sample_phrase(1200, None) == "1,200 queries"
    assert sample_phrase(412, 86) == "412 queries (86 groups, each resampled whole)"
