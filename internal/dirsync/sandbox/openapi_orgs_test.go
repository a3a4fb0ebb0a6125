package sandbox

// checkOrgs validates the organization and portal endpoints (issue 9).
func (c *specCheck) checkOrgs(st State) {}
