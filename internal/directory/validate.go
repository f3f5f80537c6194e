package directory

import (
	"net/mail"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone validation must not depend on the host's zoneinfo
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
)

// Limits on one organisation entry. They are far above any real operator
// (a large ISP announces a few thousand prefixes) and only stop a form or
// an import from storing absurd amounts.
const (
	MaxNameLen        = 200
	MaxDescriptionLen = 4000
	MaxSectors        = 100
	MaxContacts       = 50
	MaxPrefixes       = 10000
	MaxASNs           = 2000
	MaxDomains        = 10000
)

// NIS2 categories and size classes (Commission Recommendation 2003/361/EC).
const (
	Essential = "essential"
	Important = "important"
)

var (
	// Categories are the NIS2 categories of an operator.
	Categories = []string{Essential, Important}
	// SizeClasses are the enterprise size classes.
	SizeClasses = []string{"micro", "small", "medium", "large"}
	// ContactRoles are the roles a contact can have.
	ContactRoles = []string{"security_officer", "incident_contact", "management", "legal", "technical",
		"communications", "data_protection_officer"}
)

// maxProblems bounds the problems reported for one input: a hostile or
// badly broken 32 MiB import must not produce a million-line answer.
const maxProblems = 1000

// validator collects the problems of one input with their JSON paths.
type validator struct {
	f errs.Fields
	// paths are the fields of the problems add recorded, in order.
	paths     []string
	truncated bool
}

func (v *validator) add(field, key string, args ...any) {
	if v.f.Len() >= maxProblems {
		v.truncated = true
		return
	}
	v.f.AddKey(field, key, args...)
	v.paths = append(v.paths, field)
}

// err returns the problems as one Invalid error (nil when none), saying
// so when some were left out.
func (v *validator) err() error {
	if v.truncated {
		v.truncated = false
		v.f.AddKey("document", "dir.err.too_many_problems", maxProblems)
	}
	return v.f.Err()
}

// clip shortens a user's value quoted back in a message, so that a 10 kB
// paste does not come back ten times.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= 80 {
		return s
	}
	r := []rune(s)
	return string(r[:77]) + "…"
}

func idx(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// text checks a free-text field: valid UTF-8, no control characters (tab
// and newline only when multiline), at most max characters.
func (v *validator) text(field, s string, max int, required, multiline bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		if required {
			v.add(field, "dir.err.required")
		}
	case !utf8.ValidString(s):
		v.add(field, "dir.err.utf8")
	case utf8.RuneCountInString(s) > max:
		v.add(field, "dir.err.too_long", max)
	case strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))
	}):
		v.add(field, "dir.err.control_chars")
	}
	return s
}

// ParseID returns the canonical (lower-case, hyphenated) form of a UUID, or
// false. The nil UUID is refused: it is nobody's.
func ParseID(s string) (string, bool) {
	u, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil || u == uuid.Nil {
		return "", false
	}
	return u.String(), true
}

// ValidShortName reports whether s is 2–32 ASCII letters, digits, '-' or
// '_', starting with a letter or digit (it appears in URLs and CLI flags).
func ValidShortName(s string) bool {
	if len(s) < 2 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_') {
			return false
		}
	}
	return true
}

var zoneCache sync.Map // name → bool

// ValidTimeZone reports whether name is an IANA time zone. "Local" is
// refused: it means the server's zone, which differs between hosts.
func ValidTimeZone(name string) bool {
	if name == "" || name == "Local" || len(name) > 64 {
		return false
	}
	if ok, hit := zoneCache.Load(name); hit {
		return ok.(bool)
	}
	_, err := time.LoadLocation(name)
	// Only valid names are cached, so the cache stays as small as the zone
	// database however many bad names are tried.
	if err == nil {
		zoneCache.Store(name, true)
	}
	return err == nil
}

// NormalizeEmail checks a plain e-mail address (no display name, no angle
// brackets) and returns it in lower case, with the catalogue key of the
// problem when it is not one.
func NormalizeEmail(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || !utf8.ValidString(s) {
		return "", "dir.err.email"
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", "dir.err.email"
	}
	if a.Name != "" || a.Address != s {
		return "", "dir.err.email_plain"
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") {
		return "", "dir.err.email"
	}
	return strings.ToLower(s), ""
}

// NormalizePhone accepts a phone number in international form, written
// with spaces, dots, hyphens, slashes or parentheses between the digits and
// "+" or "00" before the country code, and returns it as E.164 (+ then 7 to
// 15 digits, the first not 0).
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	out := b.String()
	if n := len(out) - 1; n < 7 || n > 15 || out[1] == '0' {
		return "", false
	}
	return out, true
}

// ParsePrefix parses an IP prefix of a constituency and returns it in
// canonical form. On failure it returns the catalogue key of the problem and
// its arguments, with a suggestion when one is obvious (the masked prefix,
// the address as a /32 or /128, the IPv4 form of an IPv4-mapped prefix).
func ParsePrefix(s string) (netip.Prefix, string, []any) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			a = a.Unmap()
			return netip.Prefix{}, "dir.err.prefix_no_length", []any{clip(s), netip.PrefixFrom(a, a.BitLen()).String()}
		}
		return netip.Prefix{}, "dir.err.prefix", []any{clip(s)}
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, "dir.err.prefix", []any{clip(s)}
	}
	if p.Addr().Is4In6() {
		if p.Bits() >= 96 {
			q := netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
			return netip.Prefix{}, "dir.err.prefix_mapped", []any{clip(s), q.String()}
		}
		return netip.Prefix{}, "dir.err.prefix", []any{clip(s)}
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, "dir.err.prefix_everything", []any{clip(s)}
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, "dir.err.prefix_host_bits", []any{clip(s), m.String()}
	}
	return p, "", nil
}

// AS numbers that cannot be an organisation's: AS_TRANS (RFC 6793) and the
// IANA-reserved ranges (RFC 7300, and 65552–131071). Documentation
// (RFC 5398) and private-use (RFC 6996) numbers are accepted: they are what
// test and demo directories and private networks use.
const asTrans = 23456

func asnReserved(n uint64) bool {
	return n == 65535 || (n >= 65552 && n <= 131071)
}

// ParseASN parses an AS number written "AS64500", "as64500", "64500" or in
// asdot notation "1.10", returning the catalogue key of the problem on
// failure.
func ParseASN(s string) (uint32, string) {
	s = strings.TrimSpace(s)
	num := s
	if len(num) > 2 && strings.EqualFold(num[:2], "AS") {
		num = num[2:]
	}
	digits := func(x string) bool { return x != "" && strings.Trim(x, "0123456789") == "" }
	var n uint64
	if hi, lo, dot := strings.Cut(num, "."); dot {
		if !digits(hi) || !digits(lo) {
			return 0, "dir.err.asn"
		}
		h, herr := strconv.ParseUint(hi, 10, 64)
		l, lerr := strconv.ParseUint(lo, 10, 64)
		if herr != nil || lerr != nil || h > 65535 || l > 65535 {
			return 0, "dir.err.asn"
		}
		n = h<<16 | l
	} else {
		if !digits(num) {
			return 0, "dir.err.asn"
		}
		var err error
		if n, err = strconv.ParseUint(num, 10, 64); err != nil {
			return 0, "dir.err.asn_range" // more digits than any AS number
		}
	}
	switch {
	case n < 1 || n > 4294967294:
		return 0, "dir.err.asn_range"
	case n == asTrans:
		return 0, "dir.err.asn_trans"
	case asnReserved(n):
		return 0, "dir.err.asn_reserved"
	}
	return uint32(n), ""
}

// NormalizeDomain checks a domain of a constituency and returns it in lower
// case without a trailing dot, or the catalogue key of the problem.
// Internationalised names must be given in punycode (xn--…): converting
// them needs IDNA tables the standard library does not have, and the
// A-label is what DNS, certificates and threat feeds carry anyway.
func NormalizeDomain(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "dir.err.required"
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return "", "dir.err.domain_idn"
		}
	}
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if strings.HasPrefix(s, "*.") {
		return "", "dir.err.domain_wildcard"
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return "", "dir.err.domain_ip"
	}
	if len(s) > 253 {
		return "", "dir.err.domain_length"
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", "dir.err.domain_labels"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", "dir.err.domain_label"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", "dir.err.domain_label"
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", "dir.err.domain_tld"
	}
	return s, ""
}

// KindsForLinkRole lists the organisation kinds that may play a
// supervision role. A member state may designate its NCA or its CSIRT as
// single point of contact, so SPOC accepts those kinds too.
var KindsForLinkRole = map[authz.LinkRole][]authz.OrgKind{
	authz.SectoralAuthority: {authz.NCA},
	authz.CSIRTLink:         {authz.CSIRT},
	authz.SPOCLink:          {authz.SPOC, authz.NCA, authz.CSIRT},
	authz.CrisisCentreLink:  {authz.CrisisCentre},
	authz.DPALink:           {authz.DPA},
}

func joinAny[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// ValidateOrg checks every field of an organisation entry and returns it in
// canonical form (trimmed text, upper-case country, canonical prefixes,
// lower-case domains and e-mails, E.164 phones, sets sorted). Every problem
// is reported at once, each under its JSON path; the error is coded
// Invalid. Uniqueness of the short name needs the store: the service
// checks it.
func ValidateOrg(in OrgInput) (Org, error) {
	var v validator
	o := Org{}
	if s := strings.TrimSpace(in.ID); s != "" {
		if id, ok := ParseID(s); ok {
			o.ID = id
		} else {
			v.add("id", "dir.err.uuid", clip(s))
		}
	}
	o.ShortName = strings.TrimSpace(in.ShortName)
	switch {
	case o.ShortName == "":
		v.add("short_name", "dir.err.required")
	case !ValidShortName(o.ShortName):
		v.add("short_name", "dir.err.short_name", clip(o.ShortName))
	}
	o.Name = v.text("name", in.Name, MaxNameLen, true, false)
	o.Description = v.text("description", in.Description, MaxDescriptionLen, false, true)

	o.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	switch {
	case o.Country == "":
		v.add("country", "dir.err.required")
	case !ValidCountry(o.Country):
		v.add("country", "dir.err.country", clip(in.Country))
	}
	o.TimeZone = strings.TrimSpace(in.TimeZone)
	switch {
	case o.TimeZone == "":
		v.add("timezone", "dir.err.required")
	case !ValidTimeZone(o.TimeZone):
		v.add("timezone", "dir.err.timezone", clip(o.TimeZone))
	}
	o.Kind = authz.OrgKind(strings.TrimSpace(string(in.Kind)))
	switch {
	case o.Kind == "":
		v.add("kind", "dir.err.required")
	case !o.Kind.Valid():
		v.add("kind", "dir.err.kind", clip(string(in.Kind)), joinAny(authz.OrgKinds))
	}
	o.Category = strings.ToLower(strings.TrimSpace(in.Category))
	switch {
	case o.Category == "":
	case !slices.Contains(Categories, o.Category):
		v.add("nis2_category", "dir.err.category", clip(in.Category))
	case o.Kind.IsAuthority():
		v.add("nis2_category", "dir.err.category_authority")
	}
	o.SizeClass = strings.ToLower(strings.TrimSpace(in.SizeClass))
	if o.SizeClass != "" && !slices.Contains(SizeClasses, o.SizeClass) {
		v.add("size_class", "dir.err.size", clip(in.SizeClass))
	}

	o.Sectors = v.sectors(in.Sectors)
	o.Contacts = v.contacts(in.Contacts)
	o.Prefixes = v.prefixes(in.Prefixes)
	o.ASNs = v.asns(in.ASNs)
	o.Domains = v.domains(in.Domains)
	if err := v.err(); err != nil {
		return Org{}, err
	}
	return o, nil
}

func (v *validator) tooMany(field string, n, max int) bool {
	if n > max {
		v.add(field, "dir.err.too_many", max)
		return true
	}
	return false
}

// CheckSector checks one sector entry: a known sector, a sub-sector of it
// (given as "energy/electricity" or just "electricity") and an entity type
// the annexes list there. It returns the entry with full codes and the
// field ("sector", "subsector", "entity_type") and catalogue key of the
// first problem.
func CheckSector(s OrgSector) (OrgSector, string, string, []any) {
	s.Sector = strings.TrimSpace(strings.ToLower(s.Sector))
	s.Subsector = strings.TrimSpace(strings.ToLower(s.Subsector))
	s.EntityType = strings.TrimSpace(strings.ToLower(s.EntityType))
	if s.Sector == "" {
		return s, "sector", "dir.err.required", nil
	}
	sec, ok := SectorByCode(s.Sector)
	if !ok || sec.Parent != "" {
		return s, "sector", "dir.err.sector", []any{clip(s.Sector)}
	}
	where := sec
	if s.Subsector != "" {
		if !strings.Contains(s.Subsector, "/") {
			s.Subsector = s.Sector + "/" + s.Subsector
		}
		sub, ok := SectorByCode(s.Subsector)
		if !ok || sub.Parent != s.Sector {
			return s, "subsector", "dir.err.subsector", []any{clip(s.Subsector), s.Sector}
		}
		where = sub
	}
	if s.EntityType != "" {
		if s.Subsector == "" && len(sec.Subsectors) > 0 {
			return s, "entity_type", "dir.err.entity_needs_subsector", []any{s.Sector}
		}
		if !where.HasEntityType(s.EntityType) {
			return s, "entity_type", "dir.err.entity_type", []any{clip(s.EntityType), where.Code}
		}
	}
	return s, "", "", nil
}

func (v *validator) sectors(in []OrgSector) []OrgSector {
	out := []OrgSector{}
	if v.tooMany("sectors", len(in), MaxSectors) {
		return out
	}
	seen := map[OrgSector]bool{}
	for i, s := range in {
		path := idx("sectors", i)
		s, field, key, args := CheckSector(s)
		if key != "" {
			v.add(path+"."+field, key, args...)
			continue
		}
		if seen[s] {
			v.add(path, "dir.err.duplicate_entry")
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	sortSectors(out)
	return out
}

func sortSectors(s []OrgSector) {
	slices.SortFunc(s, func(a, b OrgSector) int {
		return strings.Compare(a.Sector+"\x00"+a.Subsector+"\x00"+a.EntityType, b.Sector+"\x00"+b.Subsector+"\x00"+b.EntityType)
	})
}

func (v *validator) contacts(in []Contact) []Contact {
	out := []Contact{}
	if v.tooMany("contacts", len(in), MaxContacts) {
		return out
	}
	for i, c := range in {
		path := idx("contacts", i)
		n := v.f.Len()
		c.Role = strings.TrimSpace(c.Role)
		switch {
		case c.Role == "":
			v.add(path+".role", "dir.err.required")
		case !slices.Contains(ContactRoles, c.Role):
			v.add(path+".role", "dir.err.contact_role", clip(c.Role), strings.Join(ContactRoles, ", "))
		}
		c.Name = v.text(path+".name", c.Name, MaxNameLen, false, false)
		if e := strings.TrimSpace(c.Email); e != "" {
			norm, key := NormalizeEmail(e)
			if key != "" {
				v.add(path+".email", key, clip(e))
			}
			c.Email = norm
		} else {
			c.Email = ""
		}
		if p := strings.TrimSpace(c.Phone); p != "" {
			norm, ok := NormalizePhone(p)
			if !ok {
				v.add(path+".phone", "dir.err.phone", clip(p))
			}
			c.Phone = norm
		} else {
			c.Phone = ""
		}
		if strings.TrimSpace(c.Email) == "" && c.Phone == "" && v.f.Len() == n {
			v.add(path, "dir.err.contact_reach")
		}
		out = append(out, c)
	}
	return out
}

func (v *validator) prefixes(in []string) []string {
	if v.tooMany("prefixes", len(in), MaxPrefixes) {
		return []string{}
	}
	ps := make([]netip.Prefix, 0, len(in))
	seen := map[netip.Prefix]bool{}
	for i, s := range in {
		p, key, args := ParsePrefix(s)
		if key != "" {
			v.add(idx("prefixes", i), key, args...)
			continue
		}
		if seen[p] {
			v.add(idx("prefixes", i), "dir.err.duplicate", p.String())
			continue
		}
		seen[p] = true
		ps = append(ps, p)
	}
	return canonicalPrefixes(ps)
}

// canonicalPrefixes sorts IPv4 before IPv6, then by address and length,
// so that an entry reads (and exports) the same whatever order it was
// typed in.
func canonicalPrefixes(ps []netip.Prefix) []string {
	slices.SortFunc(ps, comparePrefix)
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func (v *validator) asns(in []string) []uint32 {
	out := []uint32{}
	if v.tooMany("asns", len(in), MaxASNs) {
		return out
	}
	seen := map[uint32]bool{}
	for i, s := range in {
		n, key := ParseASN(s)
		if key != "" {
			v.add(idx("asns", i), key, clip(strings.TrimSpace(s)))
			continue
		}
		if seen[n] {
			v.add(idx("asns", i), "dir.err.duplicate", "AS"+strconv.FormatUint(uint64(n), 10))
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (v *validator) domains(in []string) []string {
	out := []string{}
	if v.tooMany("domains", len(in), MaxDomains) {
		return out
	}
	seen := map[string]bool{}
	for i, s := range in {
		d, key := NormalizeDomain(s)
		if key != "" {
			v.add(idx("domains", i), key, clip(strings.TrimSpace(s)))
			continue
		}
		if seen[d] {
			v.add(idx("domains", i), "dir.err.duplicate", d)
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// ValidateLink checks a supervision link's own fields (the authority's
// existence and kind need the store: the service checks them). It returns
// the link in canonical form.
func ValidateLink(l Link) (Link, error) {
	var v validator
	out := Link{}
	if s := strings.TrimSpace(l.ID); s != "" {
		if id, ok := ParseID(s); ok {
			out.ID = id
		} else {
			v.add("id", "dir.err.uuid", clip(s))
		}
	}
	out.Country = strings.ToUpper(strings.TrimSpace(l.Country))
	switch {
	case out.Country == "":
		v.add("country", "dir.err.required")
	case !ValidCountry(out.Country):
		v.add("country", "dir.err.country", clip(l.Country))
	}
	s, field, key, args := CheckSector(OrgSector{Sector: l.Sector, Subsector: l.Subsector})
	if key != "" {
		v.add(field, key, args...)
	}
	out.Sector, out.Subsector = s.Sector, s.Subsector
	out.Role = authz.LinkRole(strings.TrimSpace(string(l.Role)))
	switch {
	case out.Role == "":
		v.add("role", "dir.err.required")
	case !out.Role.Valid():
		v.add("role", "dir.err.link_role", clip(string(l.Role)), joinAny(authz.LinkRoles))
	}
	if a := strings.TrimSpace(l.AuthorityOrgID); a == "" {
		v.add("authority", "dir.err.required")
	} else if id, ok := ParseID(a); ok {
		out.AuthorityOrgID = id
	} else {
		v.add("authority", "dir.err.uuid", clip(a))
	}
	out.Model = strings.ToLower(strings.TrimSpace(l.Model))
	if out.Model != "" && !slices.Contains(Models, out.Model) {
		v.add("regulatory_model", "dir.err.model", clip(l.Model), strings.Join(Models, ", "))
	}
	if err := v.err(); err != nil {
		return Link{}, err
	}
	return out, nil
}

// linkKindOK reports whether an organisation of kind k may play role r.
func linkKindOK(r authz.LinkRole, k authz.OrgKind) bool {
	return slices.Contains(KindsForLinkRole[r], k)
}
