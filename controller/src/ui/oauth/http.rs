//! The HTTP client the OAuth crates call the providers with: our reqwest
//! (rustls, the workspace's one crypto provider), with redirects off so a
//! token endpoint cannot bounce the client (and its secret) elsewhere.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("request to the provider failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("provider response: {0}")]
    Response(String),
}

#[derive(Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    pub fn new() -> Result<Self, HttpError> {
        Ok(Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(TIMEOUT)
                .user_agent(concat!("zmon/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }

    /// The client itself, for provider APIs outside the OAuth flow
    /// (GitHub's user and organisation endpoints).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let response = self.client.execute(request).await?;
        let mut builder = oauth2::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = response.bytes().await?.to_vec();
        builder
            .body(body)
            .map_err(|e| HttpError::Response(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
