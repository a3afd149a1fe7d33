// Real servers and real clients share two cores; one test class at a time keeps every test's time bounds honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
