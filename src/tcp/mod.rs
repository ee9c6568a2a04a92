//! TCP mode (layer 4). Its relay comes with the TCP issue; until then a
//! `mode tcp` proxy is refused before start-up (see `lib.rs`), so this is
//! never reached with live traffic.
use crate::model::FrontendId;
use crate::worker::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

pub async fn serve(
    _sh: Arc<Shared>,
    _fe: FrontendId,
    _sock: TcpStream,
    _src: SocketAddr,
    _dst: SocketAddr,
) {
}
