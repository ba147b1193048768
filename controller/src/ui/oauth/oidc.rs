//! Login through any OpenID Connect provider: discovery, the authorization
//! code flow with PKCE and a nonce, and a verified ID token (signature
//! against the provider's published keys, issuer, audience, expiry, nonce).

use std::time::{Duration, Instant};

use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;
use tokio::sync::RwLock;

use super::http::ProviderHttp;
use super::identity::Identity;
use super::{OAuthError, Started};
use crate::config::OidcConfig;

/// Discovery documents and keys are fetched again after this long (and
/// at once when a token is signed with a key we do not know).
const METADATA_TTL: Duration = Duration::from_secs(3600);

pub struct Oidc {
    config: OidcConfig,
    teams_claim: Option<String>,
    http: ProviderHttp,
    metadata: RwLock<Option<(Instant, CoreProviderMetadata)>>,
}

impl Oidc {
    pub fn new(config: OidcConfig, teams_claim: Option<String>, http: ProviderHttp) -> Self {
        Self {
            config,
            teams_claim,
            http,
            metadata: RwLock::new(None),
        }
    }

    /// What the login page's button says.
    pub fn label(&self) -> String {
        let host = self
            .config
            .issuer
            .split("://")
            .nth(1)
            .unwrap_or(&self.config.issuer)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        format!("Log in with single sign-on ({host})")
    }

    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, OAuthError> {
        if !refresh
            && let Some((at, metadata)) = self.metadata.read().await.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| OAuthError::Config(format!("ZMON_OIDC_ISSUER: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OAuthError::Provider(format!("OpenID discovery: {}", chain(&e))))?;
        *self.metadata.write().await = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn client(
        &self,
        metadata: CoreProviderMetadata,
        redirect: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OAuthError,
    > {
        let redirect = RedirectUrl::new(redirect.to_string())
            .map_err(|e| OAuthError::Config(format!("redirect URI {redirect}: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    pub async fn start(&self, redirect: &str) -> Result<Started, OAuthError> {
        let client = self.client(self.metadata(false).await?, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.config.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Started {
            url: url.to_string(),
            state: state.into_secret(),
            pkce_verifier: verifier.into_secret(),
            nonce: nonce.secret().clone(),
        })
    }

    pub async fn finish(
        &self,
        redirect: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, OAuthError> {
        let client = self.client(self.metadata(false).await?, redirect)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OAuthError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| OAuthError::Provider(format!("token exchange: {}", chain(&e))))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| OAuthError::Provider("the token response has no ID token".into()))?;
        let nonce = Nonce::new(nonce.to_string());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // The provider may have rotated its keys since we fetched them.
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.client(self.metadata(true).await?, redirect)?;
                id_token
                    .claims(&fresh.id_token_verifier(), &nonce)
                    .map_err(|e| OAuthError::Refused(format!("ID token: {e}")))?
                    .clone()
            }
            Err(e) => return Err(OAuthError::Refused(format!("ID token: {e}"))),
        };
        let groups = match &self.teams_claim {
            // The token is verified above; its payload is read again only
            // for a claim the standard set does not know.
            Some(claim) => payload(&id_token.to_string())
                .map(|p| string_list(&p[claim.as_str()]))
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let email = claims
            .email()
            .filter(|_| claims.email_verified() != Some(false))
            .map(|e| e.as_str().to_string());
        Ok(Identity {
            subject: claims.subject().as_str().to_string(),
            username: claims.preferred_username().map(|u| u.as_str().to_string()),
            // Within one organisation's provider names are assigned, not
            // claimed.
            username_trusted: true,
            email,
            groups,
        })
    }
}

fn payload(jwt: &str) -> Option<Value> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A claim as a list of strings: an array, or one string (some providers
/// send a single group as a string, others comma-separated).
fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// An error with its causes, for the log and the login page.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_claims_come_as_lists_or_text() {
        assert_eq!(string_list(&json!(["db", 3, "web"])), ["db", "web"]);
        assert_eq!(string_list(&json!("db, web")), ["db", "web"]);
        assert!(string_list(&json!(null)).is_empty());
    }
}
