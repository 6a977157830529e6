"""The web console (`cadextract serve`): dashboard, jobs, job with preview, batches, JSON API."""
