"""Post URL normalisation: the variants of one post's address share one incident key."""

from __future__ import annotations

from shared import post_urls

URLS = [
    "https://www.facebook.com/abqpolice/posts/111?fbclid=abc",
    "http://m.facebook.com/abqpolice/posts/111/",
    "https://twitter.com/cabq/status/123?s=20&t=xyz",
    "https://youtu.be/dQw4w9WgXcQ",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
    "instagram.com/p/abc/?igshid=1",
]


def test_variants_of_one_post_share_a_key():
    assert post_urls.incident_key(URLS[0]) == post_urls.incident_key(URLS[1])
    assert post_urls.incident_key(URLS[3]) == post_urls.incident_key(URLS[4])
    assert post_urls.normalise_post_url(URLS[2]) == "https://x.com/cabq/status/123"


def test_different_posts_differ():
    assert post_urls.incident_key(URLS[0]) != post_urls.incident_key(URLS[2])
