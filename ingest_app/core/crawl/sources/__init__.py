"""Company sources: each lists a company's current jobs and extracts one posting."""
