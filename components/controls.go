package components

// UserMenuData is what UserMenu shows.
type UserMenuData struct {
	// ID is the menu's id; "user-menu" when "".
	ID string
	// Name is the signed-in user's display name (auth.User.DisplayName).
	Name string
	// ProfileURL is where the name links; "/profile" when "".
	ProfileURL string
	// SignOut is the menu's Sign out button.
	SignOut SignOutAction
}

// SwapData is a SessionSwap's state.
type SwapData struct {
	// ID is the element's id; the fragment at FragmentURL keeps it.
	// Required when FragmentURL is set.
	ID string
	// SignedIn picks the signed-in content.
	SignedIn bool
	// FragmentURL, when set, is where the element fetches itself again.
	FragmentURL string
}

func signedState(signedIn bool) string {
	if signedIn {
		return "signed-in"
	}
	return "signed-out"
}
