package sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/brianvoe/gofakeit/v7"
)

// Presets.
const (
	PresetDemo  = "demo"
	PresetSmall = "small"
	PresetLarge = "large"
	PresetEmpty = "empty"
)

// Directory types used by the presets and the portal.
const (
	typeOkta    = "okta scim v2.0"
	typeEntra   = "azure scim v2.0"
	typeGoogle  = "gsuite directory"
	typeGeneric = "generic scim v2.0"
)

// seedEpoch is the ULID time of the first seeded object. Seeded ids use it
// (plus the same offsets as their created_at) so the same seed gives the
// same ids whatever day the sandbox starts.
var seedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

type orgPlan struct {
	name    string
	domains []string
}

type dirPlan struct {
	org          int
	typ, name    string
	domain       string // the directory's own domain (Google only)
	emailDomain  string
	users        int
	groups       int
	otherDomains bool
}

func presetPlans(preset string) ([]orgPlan, []dirPlan, error) {
	demoOrgs := []orgPlan{
		{"Northwind Traders", []string{"northwind.example", "tailspin.example"}},
		{"Contoso Health", []string{"contoso.example"}},
	}
	switch preset {
	case "", PresetDemo:
		return demoOrgs, []dirPlan{
			{org: 0, typ: typeOkta, name: "Northwind Okta", emailDomain: "northwind.example", users: 250, groups: 20},
			{org: 1, typ: typeEntra, name: "Contoso Entra ID", emailDomain: "contoso.example", users: 1200, groups: 40},
			{org: 0, typ: typeGoogle, name: "Tailspin Google Workspace", domain: "tailspin.example", emailDomain: "tailspin.example", users: 60, groups: 8},
		}, nil
	case PresetSmall:
		return []orgPlan{{"Fabrikam", []string{"fabrikam.example"}}}, []dirPlan{
			{org: 0, typ: typeOkta, name: "Fabrikam Okta", emailDomain: "fabrikam.example", users: 25, groups: 4},
		}, nil
	case PresetLarge:
		return []orgPlan{{"Initech Global", []string{"initech.example"}}}, []dirPlan{
			{org: 0, typ: typeEntra, name: "Initech Entra ID", emailDomain: "initech.example", users: 100_000, groups: 2_000},
		}, nil
	case PresetEmpty:
		return demoOrgs, nil, nil
	}
	return nil, nil, fmt.Errorf("sandbox: unknown preset %q (want demo, small, large or empty)", preset)
}

type deptSpec struct {
	name   string
	weight int
	titles []string
}

var departments = []deptSpec{
	{"Engineering", 30, []string{"Software Engineer", "Senior Software Engineer", "Staff Engineer", "Engineering Manager", "Site Reliability Engineer", "QA Engineer"}},
	{"Sales", 15, []string{"Account Executive", "Sales Development Representative", "Sales Manager", "Solutions Engineer"}},
	{"Customer Success", 10, []string{"Customer Success Manager", "Support Engineer", "Support Specialist"}},
	{"Product", 6, []string{"Product Manager", "Senior Product Manager", "Product Analyst"}},
	{"Marketing", 7, []string{"Marketing Manager", "Content Strategist", "Growth Marketer"}},
	{"Design", 4, []string{"Product Designer", "UX Researcher", "Design Lead"}},
	{"Finance", 5, []string{"Accountant", "Financial Analyst", "Controller"}},
	{"People", 4, []string{"HR Business Partner", "Recruiter", "People Operations Specialist"}},
	{"IT", 4, []string{"IT Administrator", "Systems Engineer", "Help Desk Technician"}},
	{"Operations", 5, []string{"Operations Manager", "Office Manager", "Facilities Coordinator"}},
	{"Legal", 2, []string{"Counsel", "Paralegal"}},
	{"R&D", 3, []string{"Research Scientist", "Lab Technician"}},
}

var locations = []string{"London, UK", "New York, USA", "Berlin, Germany", "Tokyo, Japan", "São Paulo, Brazil", "Toronto, Canada", "Remote"}

var appGroups = []string{"App – Salesforce", "App – GitHub", "App – Slack Admins", "VPN Users", "App – Jira", "App – Figma", "Security Champions", "On-call Rotation"}

// special is a person whose strings tend to break applications.
type special struct {
	first, last, email, title string
}

var specials = []special{
	{"Siobhán", "O'Brien", "siobhan.o'brien", ""},
	{"太郎", "山田", "taro.yamada", "ソフトウェアエンジニア"},
	{"Дмитрий", "Кузнецов", "dmitry.kuznetsov", "Инженер-программист"},
	{"ليلى", "حداد", "layla.haddad", "مهندسة برمجيات"},
	{"נועה", "כהן", "noa.cohen", ""},
	{"Zoë 🌈", "Nguyễn 🚀", "zoe.nguyen", "Chief Vibes Officer ✨"},
	{"Maximiliana Anastasia Bartholomea", "Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh-Cholmondeley-Marjoribanks", "max.wolfeschlegel", ""},
	{"Robert\"); DROP TABLE accounts;--", "Tables", "bobby.tables", "<script>alert(1)</script>"},
	{"Cher", "", "cher", ""},
}

// seeder generates one preset deterministically from the seed.
type seeder struct {
	s *Sandbox
	f *gofakeit.Faker
}

func (s *Sandbox) seed(preset string, seed int64, now time.Time) error {
	orgs, dirs, err := presetPlans(preset)
	if err != nil {
		return err
	}
	sd := &seeder{s: s, f: gofakeit.New(uint64(seed))}
	// The initial sync history lies within the last 30 days.
	h0 := now.Add(-29 * 24 * time.Hour).Truncate(time.Second).UnixMilli()
	c := clk{at: h0 - 30*24*3600*1000, idAt: seedEpoch}
	var os []*org
	for _, op := range orgs {
		os = append(os, s.addOrg(c, op.name, op.domains, "verified"))
		c = c.step(60_000)
	}
	if len(dirs) == 0 {
		return nil
	}
	span := int64(27 * 24 * 3600 * 1000)
	slot := span / int64(len(dirs))
	for i, dp := range dirs {
		start := clk{at: h0 + int64(i)*slot, idAt: seedEpoch + 30*24*3600*1000 + int64(i)*slot}
		sd.directory(start, slot, os[dp.org], dp)
	}
	return nil
}

type plannedUser struct {
	u     *user
	dept  int
	loc   int
	admin bool
}

func (sd *seeder) directory(c clk, slot int64, o *org, dp dirPlan) {
	users := sd.planUsers(dp)
	names, members := sd.planGroups(dp, users)
	total := 1 + len(names) + len(users)
	for _, m := range members {
		total += len(m)
	}
	dt := slot / int64(total+1)
	if dt < 1 {
		dt = 1
	}
	d := sd.s.addDirectory(c, o, dp.typ, dp.name, dp.domain, "linked")
	var gs []*group
	for _, n := range names {
		c = c.step(dt)
		gs = append(gs, sd.s.addGroup(c, d, n, sd.groupIdpID(dp.typ)))
	}
	for _, pu := range users {
		c = c.step(dt)
		sd.s.addUser(c, d, pu.u)
	}
	for gi, m := range members {
		for _, ui := range m {
			c = c.step(dt)
			_, _ = sd.s.addMember(c, gs[gi], users[ui].u)
		}
	}
}

func pickWeighted(f *gofakeit.Faker) int {
	total := 0
	for _, d := range departments {
		total += d.weight
	}
	n := f.IntN(total)
	for i, d := range departments {
		if n < d.weight {
			return i
		}
		n -= d.weight
	}
	return 0
}

// accented letters and their ASCII folds, position by position.
const (
	accented = "àáâãäåāçčèéêëēìíîïīñňòóôõöøōšùúûüūýÿž"
	folded   = "aaaaaaacceeeeeiiiiinnooooooosuuuuuyyz"
)

// asciiLocal turns names into an email local part, keeping ASCII letters
// and digits only: "Mary-Ann", "O'Neil" → "maryann.oneil".
func asciiLocal(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for _, r := range strings.ToLower(p) {
			switch {
			case (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteRune(r)
			case r == 'ß':
				b.WriteString("ss")
			default:
				if i := strings.IndexRune(accented, r); i >= 0 {
					b.WriteByte(folded[utf8.RuneCountInString(accented[:i])])
				}
			}
		}
	}
	return b.String()
}

func (sd *seeder) planUsers(dp dirPlan) []plannedUser {
	f := sd.f
	n := dp.users
	users := make([]plannedUser, 0, n)
	seen := make(map[string]int, n)
	uniqueEmail := func(local, domain string) string {
		if local == "" {
			local = "user"
		}
		e := local + "@" + domain
		if k := seen[e]; k > 0 {
			seen[e] = k + 1
			e = local + strconv.Itoa(k+1) + "@" + domain
		} else {
			seen[e] = 1
		}
		return e
	}
	heads := map[int]int{} // department -> user index of its head
	deptMembers := map[int][]int{}
	empBase := 100000 + f.IntN(800000)
	for i := 0; i < n; i++ {
		var pu plannedUser
		u := &user{idpID: sd.userIdpID(dp.typ), state: "active", role: "member"}
		pu.u = u
		pu.loc = f.IntN(len(locations))
		title := ""
		switch {
		case i == 0:
			pu.dept = len(departments) - 3 // Operations
			title = "Chief Executive Officer"
		case i <= len(departments):
			pu.dept = i - 1
			title = "Head of " + departments[pu.dept].name
		default:
			pu.dept = pickWeighted(f)
		}
		dept := departments[pu.dept]
		if title == "" {
			title = dept.titles[f.IntN(len(dept.titles))]
		}
		first, last := f.FirstName(), f.LastName()
		local := asciiLocal(first, last)
		domain := dp.emailDomain
		if k := i - (len(departments) + 1); n >= 20 && k >= 0 && k < len(specials) {
			sp := specials[k]
			first, last, local = sp.first, sp.last, sp.email
			if sp.title != "" {
				title = sp.title
			}
		} else if i > len(departments) && f.IntN(100) < 2 {
			// Contractors and guests on a domain the org does not own.
			domain = "freelance-mail.example"
		}
		u.first, u.last = first, last
		if i > len(departments)+len(specials) && f.IntN(100) < 1 {
			u.noEmail = true
		} else {
			u.email = uniqueEmail(local, domain)
		}
		if i > len(departments) && f.IntN(100) < 4 {
			u.state = "inactive"
		}
		if dept.name == "IT" {
			u.role = "admin"
			pu.admin = true
		}
		employeeType := "Full-time"
		switch r := f.IntN(100); {
		case domain != dp.emailDomain || r < 6:
			employeeType = "Contractor"
		case r < 9:
			employeeType = "Intern"
		}
		attrs := []attr{
			{"department", dept.name},
			{"employee_id", "E" + strconv.Itoa(empBase+i)},
			{"employee_type", employeeType},
			{"job_title", title},
			{"location", locations[pu.loc]},
		}
		// Managers: the CEO leads the heads; others report to their head
		// or to one of the first members of their department.
		mgr := -1
		switch {
		case i == 0:
		case i <= len(departments):
			mgr = 0
		default:
			pool := deptMembers[pu.dept]
			if len(pool) > 0 && f.IntN(3) > 0 {
				mgr = pool[f.IntN(min(len(pool), 1+len(pool)/8))]
			} else if h, ok := heads[pu.dept]; ok {
				mgr = h
			} else {
				mgr = 0
			}
		}
		if mgr >= 0 && !users[mgr].u.noEmail {
			attrs = append(attrs, attr{"manager_email", users[mgr].u.email})
		}
		sortAttrs(attrs)
		u.custom = attrs
		if i >= 1 && i <= len(departments) {
			heads[pu.dept] = i
		} else if i > len(departments) {
			deptMembers[pu.dept] = append(deptMembers[pu.dept], i)
		}
		users = append(users, pu)
	}
	return users
}

func sortAttrs(a []attr) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].key < a[j-1].key; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// planGroups chooses group names and their members (user indices,
// ascending). Groups are listed by priority; a directory keeps as many as
// its plan asks for, the hostile names and one or two empty groups included.
func (sd *seeder) planGroups(dp dirPlan, users []plannedUser) ([]string, [][]int) {
	f := sd.f
	g := dp.groups
	if g == 0 {
		return nil, nil
	}
	type gspec struct {
		name    string
		members func(i int, pu plannedUser) bool
	}
	var first, rest []gspec
	byDept := func(di int) func(int, plannedUser) bool {
		return func(_ int, pu plannedUser) bool { return pu.dept == di }
	}
	byLoc := func(li int) func(int, plannedUser) bool {
		return func(_ int, pu plannedUser) bool { return pu.loc == li }
	}
	locName := func(l string) string {
		if l == "Remote" {
			return "Remote Workers"
		}
		return "Office – " + strings.SplitN(l, ",", 2)[0]
	}
	app := func(name string) gspec {
		share := 10 + f.IntN(30)
		if len(users) > 10_000 {
			share = 1 + f.IntN(4)
		}
		// Admins are in every app group: people in many groups.
		return gspec{name, func(_ int, pu plannedUser) bool { return pu.admin || f.IntN(100) < share }}
	}
	first = append(first, gspec{"All Staff", func(int, plannedUser) bool { return true }})
	for di := 0; di < 6; di++ {
		first = append(first, gspec{departments[di].name, byDept(di)})
	}
	for _, a := range appGroups[:4] {
		first = append(first, app(a))
	}
	for li := 0; li < 3; li++ {
		first = append(first, gspec{locName(locations[li]), byLoc(li)})
	}
	hostile := []gspec{
		{"東京オフィス 🗼", func(_ int, pu plannedUser) bool { return locations[pu.loc] == "Tokyo, Japan" }},
		{`R&D <Labs> & "Friends"`, func(_ int, pu plannedUser) bool { return departments[pu.dept].name == "R&D" }},
	}
	for di := 6; di < len(departments); di++ {
		rest = append(rest, gspec{departments[di].name, byDept(di)})
	}
	for li := 3; li < len(locations); li++ {
		rest = append(rest, gspec{locName(locations[li]), byLoc(li)})
	}
	for _, a := range appGroups[4:] {
		rest = append(rest, app(a))
	}
	empties := []string{"Board Observers (archived)", "Contractors 2019 — empty"}
	switch {
	case g < 4:
		empties = nil
	case g < 10:
		empties = empties[:1]
	}
	keep := g - len(empties)
	var specs []gspec
	switch {
	case keep <= len(first):
		specs = first[:keep]
		if keep >= 6 {
			specs = append(first[:keep-2:keep-2], hostile...)
		}
	default:
		specs = append(append(first, hostile...), rest...)
		if len(specs) > keep {
			specs = specs[:keep]
		}
	}
	names := make([]string, 0, g)
	members := make([][]int, 0, g)
	for _, sp := range specs {
		var m []int
		for i, pu := range users {
			if sp.members(i, pu) {
				m = append(m, i)
			}
		}
		names = append(names, sp.name)
		members = append(members, m)
	}
	// Team groups fill the rest; members are sampled directly, which keeps
	// the large preset fast.
	for len(names) < keep {
		adj := f.Adjective()
		name := fmt.Sprintf("Team %s%s %s %d", strings.ToUpper(adj[:1]), adj[1:], f.Animal(), len(names)+1)
		size := 2 + f.IntN(12)
		if len(users) > 10_000 {
			size = 40 + f.IntN(120)
		}
		set := map[int]bool{}
		for len(set) < min(size, len(users)) {
			set[f.IntN(len(users))] = true
		}
		m := make([]int, 0, len(set))
		for i := range set {
			m = append(m, i)
		}
		slices.Sort(m)
		names = append(names, name)
		members = append(members, m)
	}
	for _, e := range empties {
		names = append(names, e)
		members = append(members, nil)
	}
	return names, members
}

const idpAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (sd *seeder) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[sd.f.IntN(len(alphabet))]
	}
	return string(b)
}

func (sd *seeder) uuid() string {
	h := sd.chars(32, "0123456789abcdef")
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// userIdpID mimics the identifiers each provider hands out.
func (sd *seeder) userIdpID(typ string) string {
	switch typ {
	case typeOkta:
		return "00u" + sd.chars(17, idpAlphabet)
	case typeEntra:
		return sd.uuid()
	case typeGoogle:
		return "1" + sd.chars(20, "0123456789")
	}
	return strconv.Itoa(1000 + sd.f.IntN(9_000_000))
}

func (sd *seeder) groupIdpID(typ string) string {
	switch typ {
	case typeOkta:
		return "00g" + sd.chars(17, idpAlphabet)
	case typeEntra:
		return sd.uuid()
	case typeGoogle:
		return "0" + sd.chars(14, "0123456789abcdefghijklmnopqrstuvwxyz")
	}
	return strconv.Itoa(100 + sd.f.IntN(900_000))
}
