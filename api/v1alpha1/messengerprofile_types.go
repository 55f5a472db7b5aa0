package v1alpha1

// MessengerProfile is the Page's welcome screen and menu as Meta's Messenger Profile API holds
// them (reference §7.3). Each property present is kept equal to Meta's; an absent property is
// left as it is at Meta unless prune is true. The limits are Meta's: the API refuses a profile
// beyond them.
// +kubebuilder:validation:XValidation:rule="!has(self.persistentMenu) || has(self.getStarted)",message="persistentMenu needs getStarted: Meta shows a persistent menu only on a Page with a Get Started button"
type MessengerProfile struct {
	// GetStarted is the welcome screen's Get Started button; a tap sends its payload as a
	// postback, which the bot answers with the policy's welcome unless a trigger claims it.
	// +optional
	GetStarted *GetStarted `json:"getStarted,omitempty"`

	// Greetings are the welcome screen's text per locale; a `default` locale is required.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:XValidation:rule="self.exists(g, g.locale == 'default')",message="greetings need an entry with locale default (Meta requires a default greeting)"
	// +listType=map
	// +listMapKey=locale
	// +optional
	Greetings []Greeting `json:"greetings,omitempty"`

	// IceBreakers are the questions offered on the welcome screen per locale (at most 4 each); a
	// `default` locale is required. A tap sends the question's payload as a postback.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:XValidation:rule="self.exists(i, i.locale == 'default')",message="iceBreakers need an entry with locale default (Meta requires default ice breakers)"
	// +listType=map
	// +listMapKey=locale
	// +optional
	IceBreakers []IceBreakers `json:"iceBreakers,omitempty"`

	// PersistentMenu is the menu beside the composer per locale (at most 20 items each); a
	// `default` locale is required, and so is getStarted.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:XValidation:rule="self.exists(m, m.locale == 'default')",message="persistentMenu needs an entry with locale default (Meta requires a default menu)"
	// +listType=map
	// +listMapKey=locale
	// +optional
	PersistentMenu []PersistentMenu `json:"persistentMenu,omitempty"`

	// WhitelistedDomains are the https origins the Page's webviews and URL buttons may open.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="self.matches('^https://[^\\\\s/?#]+/?$')",message="whitelistedDomains are https origins such as https://shop.example.com (Meta accepts only https, without a path)"
	// +listType=set
	// +optional
	WhitelistedDomains []string `json:"whitelistedDomains,omitempty"`

	// Prune removes, at Meta, the properties of this list (getStarted, greetings, iceBreakers,
	// persistentMenu, whitelistedDomains) that the spec does not set. Default false: a property
	// the spec does not name is left as it is at Meta.
	// +optional
	Prune bool `json:"prune,omitempty"`
}

// GetStarted is the Get Started button.
type GetStarted struct {
	// Payload sent as the postback of a tap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 1000",message="getStarted.payload is at most 1000 characters (Meta's limit for a postback payload)"
	Payload string `json:"payload"`
}

// Greeting is the welcome screen's text in one locale.
type Greeting struct {
	// Locale such as en_US, or default.
	// +kubebuilder:validation:Pattern=`^(default|[a-z]{2}_[A-Z]{2})$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^(default|[a-z]{2}_[A-Z]{2})$')`,message=`must be default or a locale such as en_US or fr_FR`
	// +kubebuilder:validation:MaxLength=7
	Locale string `json:"locale"`

	// Text of the greeting; {{user_first_name}}, {{user_last_name}} and {{user_full_name}} are
	// filled by Meta.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 160",message="a greeting's text is at most 160 characters (Meta's limit)"
	Text string `json:"text"`
}

// IceBreakers are the welcome screen's questions in one locale.
type IceBreakers struct {
	// Locale such as en_US, or default.
	// +kubebuilder:validation:Pattern=`^(default|[a-z]{2}_[A-Z]{2})$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^(default|[a-z]{2}_[A-Z]{2})$')`,message=`must be default or a locale such as en_US or fr_FR`
	// +kubebuilder:validation:MaxLength=7
	Locale string `json:"locale"`

	// Questions offered, in order.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 4",message="iceBreakers take at most 4 questions per locale (Meta's limit)"
	Questions []IceBreaker `json:"questions"`
}

// IceBreaker is one question of the welcome screen.
type IceBreaker struct {
	// Question shown to the person.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 80",message="an ice breaker's question is at most 80 characters (Meta's limit)"
	Question string `json:"question"`

	// Payload sent as the postback of a tap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 1000",message="an ice breaker's payload is at most 1000 characters (Meta's limit for a postback payload)"
	Payload string `json:"payload"`
}

// PersistentMenu is the menu in one locale.
type PersistentMenu struct {
	// Locale such as en_US, or default.
	// +kubebuilder:validation:Pattern=`^(default|[a-z]{2}_[A-Z]{2})$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^(default|[a-z]{2}_[A-Z]{2})$')`,message=`must be default or a locale such as en_US or fr_FR`
	// +kubebuilder:validation:MaxLength=7
	Locale string `json:"locale"`

	// ComposerInputDisabled hides the text field: the person can only tap.
	// +optional
	ComposerInputDisabled bool `json:"composerInputDisabled,omitempty"`

	// Items of the menu, in order (Meta has no nested menus any more).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 20",message="a persistent menu takes at most 20 items per locale (Meta's limit)"
	Items []MenuItem `json:"items"`
}

// MenuItem is one button of the menu: a postback or a link.
// +kubebuilder:validation:XValidation:rule="has(self.postback) != has(self.webURL)",message="a menu item is exactly one of postback and webURL"
type MenuItem struct {
	// Postback sends its payload when tapped.
	// +optional
	Postback *PostbackItem `json:"postback,omitempty"`

	// WebURL opens a page.
	// +optional
	WebURL *WebURLItem `json:"webURL,omitempty"`
}

// PostbackItem is a menu button that sends a postback.
type PostbackItem struct {
	// Title shown on the button; on standby the tap arrives with this title and no payload.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 30",message="a menu item's title is at most 30 characters (Meta's limit)"
	Title string `json:"title"`

	// Payload sent as the postback of a tap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 1000",message="a menu item's payload is at most 1000 characters (Meta's limit for a postback payload)"
	Payload string `json:"payload"`
}

// WebURLItem is a menu button that opens a URL.
type WebURLItem struct {
	// Title shown on the button.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="size(self) <= 30",message="a menu item's title is at most 30 characters (Meta's limit)"
	Title string `json:"title"`

	// URL opened by a tap.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s/?#]+(/[^\s]*)?$`
	// +kubebuilder:validation:XValidation:rule=`self.startsWith('https://') || self.startsWith('http://')`,message=`must be an http(s) URL without spaces, such as https://shop.example.com/track`
	URL string `json:"url"`
}
