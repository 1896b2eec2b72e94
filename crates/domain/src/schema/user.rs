//! The core User schema, `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7643 §4.1), as
//! RFC 7643 §8.7.1 publishes it.

use super::build::{boolean, complex, reference, string};
use super::types::{AttrType, AttributeDef, Mutability, Returned, Schema, Uniqueness};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

const DISPLAY: &str = "A human-readable name, primarily used for display purposes.  READ-ONLY.";
const PRIMARY: &str = "A Boolean value indicating the 'primary' or preferred attribute value for \
    this attribute.  The primary attribute value 'true' MUST appear no more than once.";

/// The `value`, `display`, `type`, `primary` shape RFC 7643 §2.4 gives most multi-valued
/// attributes; `canonical` is the `type` sub-attribute's canonicalValues.
fn plural(
    name: &'static str,
    description: &'static str,
    value: AttributeDef,
    type_description: &'static str,
    canonical: &'static [&'static str],
) -> AttributeDef {
    complex(
        name,
        description,
        vec![
            value,
            string("display", DISPLAY),
            string("type", type_description).canonical(canonical),
            boolean("primary", PRIMARY),
        ],
    )
    .multi()
}

pub(super) fn schema() -> Schema {
    let name = complex(
        "name",
        "The components of the user's real name.",
        vec![
            string(
                "formatted",
                "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III').",
            ),
            string(
                "familyName",
                "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III').",
            ),
            string(
                "givenName",
                "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III').",
            ),
            string(
                "middleName",
                "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III').",
            ),
            string(
                "honorificPrefix",
                "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III').",
            ),
            string(
                "honorificSuffix",
                "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III').",
            ),
        ],
    );
    // RFC 7643 §8.7.1 omits `primary` from addresses, but §4.1.2 lists it ("primary" is a
    // sub-attribute of every multi-valued attribute, §2.4), and IdPs send it.
    let addresses = complex(
        "addresses",
        "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.  This attribute is a complex type with the following sub-attributes.",
        vec![
            string("formatted", "The full mailing address, formatted for display or use with a mailing label.  This attribute MAY contain newlines."),
            string("streetAddress", "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information.  This attribute MAY contain newlines."),
            string("locality", "The city or locality component."),
            string("region", "The state or region component."),
            string("postalCode", "The zip code or postal code component."),
            string("country", "The country name component."),
            string("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.")
                .canonical(&["work", "home", "other"]),
            boolean("primary", PRIMARY),
        ],
    )
    .multi();
    // RFC 7643 §4.1.2: group membership is changed through the Group resource only.
    let read_only = |a: AttributeDef| a.mutability(Mutability::ReadOnly);
    let groups = complex(
        "groups",
        "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.",
        vec![
            read_only(string("value", "The identifier of the User's group.")),
            read_only(reference("$ref", &["User", "Group"], "The URI of the corresponding 'Group' resource to which the user belongs.")),
            read_only(string("display", DISPLAY)),
            read_only(string("type", "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.")
                .canonical(&["direct", "indirect"])),
        ],
    )
    .multi()
    .mutability(Mutability::ReadOnly)
    // Returned when asked for (`attributes=groups`): it costs a query per user, and IdPs read
    // membership from the Groups they push. Discovery says so.
    .returned(Returned::Request);

    Schema {
        id: USER_URN,
        name: "User",
        description: "User Account",
        attributes: vec![
            string("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value.  This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.")
                .required()
                .uniqueness(Uniqueness::Server),
            name,
            string("displayName", "The name of the User, suitable for display to end-users.  The name SHOULD be the full name of the User being described, if known."),
            string("nickName", "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'.  This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge')."),
            reference("profileUrl", &["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
            string("title", "The user's title, such as \"Vice President.\""),
            string("userType", "Used to identify the relationship between the organization and the user.  Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used."),
            string("preferredLanguage", "Indicates the User's preferred written or spoken language.  Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US."),
            string("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
            string("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
            boolean("active", "A Boolean value indicating the User's administrative status."),
            string("password", "The User's cleartext password.  This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.")
                .mutability(Mutability::WriteOnly)
                .returned(Returned::Never),
            plural(
                "emails",
                "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
                string("value", "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'."),
                "A label indicating the attribute's function, e.g., 'work' or 'home'.",
                &["work", "home", "other"],
            ),
            plural(
                "phoneNumbers",
                "Phone numbers for the User.  The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
                string("value", "Phone number of the User."),
                "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.",
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            plural(
                "ims",
                "Instant messaging addresses for the User.",
                string("value", "Instant messaging address for the User."),
                "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.",
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            plural(
                "photos",
                "URLs of photos of the User.",
                reference("value", &["external"], "URL of a photo of the User."),
                "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.",
                &["photo", "thumbnail"],
            ),
            addresses,
            groups,
            plural(
                "entitlements",
                "A list of entitlements for the User that represent a thing the User has.",
                string("value", "The value of an entitlement."),
                "A label indicating the attribute's function.",
                &[],
            ),
            plural(
                "roles",
                "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
                string("value", "The value of a role."),
                "A label indicating the attribute's function.",
                &[],
            ),
            plural(
                "x509Certificates",
                "A list of certificates issued to the User.",
                super::build::attr("value", AttrType::Binary, "The value of an X.509 certificate."),
                "A label indicating the attribute's function.",
                &[],
            ),
        ],
    }
}
