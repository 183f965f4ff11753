PUBLISH EVENT "has spaces"
