package web

import (
	"net/http"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
)

type orgUsersData struct {
	Org   directory.Org
	Users []directory.User
	Roles []authz.Role
	Vocab vocab
	New   directory.NewUser
}

// rolesFor lists the roles an organisation of kind k can hold (the service
// enforces it; the form only offers them).
func rolesFor(a *authz.Actor, k authz.OrgKind) []authz.Role {
	var out []authz.Role
	if a.Has(authz.PlatformAdmin) || a.System {
		out = append(out, authz.PlatformAdmin)
	}
	if k.IsAuthority() {
		return append(out, authz.AuthorityAdmin, authz.AuthorityAnalyst, authz.Observer, authz.ReadOnly)
	}
	return append(out, authz.OperatorAdmin, authz.RiskManager, authz.IncidentNotifier, authz.ReadOnly)
}

func (s *Server) orgUsersPage(w http.ResponseWriter, r *http.Request, nu directory.NewUser, formErr error) error {
	o, err := s.deps.Directory.GetOrg(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	users, err := s.deps.Directory.ListUsers(r.Context(), o.ID)
	if err != nil {
		return err
	}
	d := orgUsersData{Org: o, Users: users, Roles: rolesFor(authz.ActorFrom(r.Context()), o.Kind), Vocab: s.vocab(langOf(r)), New: nu}
	p := s.newPage(r, "web.users.title", d)
	status := http.StatusOK
	if formErr != nil {
		p.Err, p.Form, status = errs.As(formErr), r.PostForm, http.StatusUnprocessableEntity
	}
	s.render(w, r, "org_users", p, status)
	return nil
}

func (s *Server) orgUsers(w http.ResponseWriter, r *http.Request) error {
	return s.orgUsersPage(w, r, directory.NewUser{}, nil)
}

func (s *Server) userCreate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("body", "unreadable form")
	}
	nu := directory.NewUser{OrgID: r.PathValue("id"), Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
		Language: r.PostFormValue("language"), Password: r.PostFormValue("password")}
	for _, v := range r.PostForm["roles"] {
		nu.Roles = append(nu.Roles, authz.Role(v))
	}
	nu.Sectors = r.PostForm["sectors"]
	u, err := s.deps.Directory.CreateUser(r.Context(), nu)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			nu.Password = ""
			return s.orgUsersPage(w, r, nu, err)
		}
		return err
	}
	s.setFlash(w, "web.users.created", true)
	http.Redirect(w, r, "/orgs/"+u.OrgID+"/users", http.StatusSeeOther)
	return nil
}

type userFormData struct {
	User  directory.User
	Roles []authz.Role
	Vocab vocab
	Self  bool
}

func (s *Server) userFormPage(w http.ResponseWriter, r *http.Request, u directory.User, formErr error) error {
	a := authz.ActorFrom(r.Context())
	d := userFormData{User: u, Roles: rolesFor(a, u.OrgKind), Vocab: s.vocab(langOf(r)), Self: u.ID == a.UserID}
	p := s.newPage(r, "web.user.edit_title", d)
	status := http.StatusOK
	if formErr != nil {
		p.Err, status = errs.As(formErr), http.StatusUnprocessableEntity
	}
	s.render(w, r, "user_form", p, status)
	return nil
}

func (s *Server) userEditForm(w http.ResponseWriter, r *http.Request) error {
	u, err := s.deps.Directory.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	tg, err := s.deps.Directory.Target(r.Context(), u.OrgID)
	if err != nil {
		return err
	}
	if err := authz.Check(authz.ActorFrom(r.Context()), authz.UserManage, tg); err != nil {
		return err
	}
	return s.userFormPage(w, r, u, nil)
}

func (s *Server) userUpdate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("body", "unreadable form")
	}
	var roles []authz.Role
	for _, v := range r.PostForm["roles"] {
		roles = append(roles, authz.Role(v))
	}
	sectors := r.PostForm["sectors"]
	name := r.PostFormValue("name")
	disabled := r.PostFormValue("disabled") == "on"
	up := directory.UserUpdate{Name: &name, Roles: &roles, Sectors: &sectors, Disabled: &disabled}
	u, err := s.deps.Directory.UpdateUser(r.Context(), r.PathValue("id"), up)
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			cur, gerr := s.deps.Directory.GetUser(r.Context(), r.PathValue("id"))
			if gerr != nil {
				return gerr
			}
			return s.userFormPage(w, r, cur, err)
		}
		return err
	}
	s.setFlash(w, "web.user.saved", true)
	http.Redirect(w, r, "/orgs/"+u.OrgID+"/users", http.StatusSeeOther)
	return nil
}
